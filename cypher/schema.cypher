// Schema of converge-graph: every constraint and index, applied idempotently at
// start-up and by `converge-graph schema apply`. Statements are separated by ';'.
CREATE CONSTRAINT event_id IF NOT EXISTS FOR (e:Event) REQUIRE e.event_id IS UNIQUE;
CREATE CONSTRAINT alias_urn IF NOT EXISTS FOR (a:Alias) REQUIRE a.urn IS UNIQUE;
CREATE CONSTRAINT profile_id IF NOT EXISTS FOR (p:Profile) REQUIRE p.profile_id IS UNIQUE;
CREATE CONSTRAINT datasource_id IF NOT EXISTS FOR (d:Datasource) REQUIRE d.source_id IS UNIQUE;
CREATE CONSTRAINT cluster_id IF NOT EXISTS FOR (c:Cluster) REQUIRE c.cluster_id IS UNIQUE;
CREATE CONSTRAINT api_key_hash IF NOT EXISTS FOR (k:ApiKey) REQUIRE k.key_hash IS UNIQUE;
CREATE INDEX profile_cluster_id IF NOT EXISTS FOR (p:Profile) ON (p.cluster_id);
CREATE INDEX datasource_token_hash IF NOT EXISTS FOR (d:Datasource) ON (d.token_hash);
CREATE INDEX event_timestamp IF NOT EXISTS FOR (e:Event) ON (e.timestamp);
CREATE INDEX alias_type IF NOT EXISTS FOR (a:Alias) ON (a.type);
CREATE CONSTRAINT conflict_id IF NOT EXISTS FOR (x:Conflict) REQUIRE x.conflict_id IS UNIQUE;
CREATE INDEX conflict_created_at IF NOT EXISTS FOR (x:Conflict) ON (x.created_at);
// Destinations and the delivery outbox (docs/destinations.md).
CREATE CONSTRAINT destination_id IF NOT EXISTS FOR (d:Destination) REQUIRE d.destination_id IS UNIQUE;
CREATE CONSTRAINT destination_name IF NOT EXISTS FOR (d:Destination) REQUIRE d.name IS UNIQUE;
CREATE CONSTRAINT delivery_id IF NOT EXISTS FOR (x:Delivery) REQUIRE x.delivery_id IS UNIQUE;
CREATE INDEX delivery_due IF NOT EXISTS FOR (x:Delivery) ON (x.status, x.next_attempt_at);
// delivery_counts.cypher (every /metrics scrape) counts by status without reading items.
CREATE INDEX delivery_status IF NOT EXISTS FOR (x:Delivery) ON (x.status);
CREATE INDEX delivery_destination IF NOT EXISTS FOR (x:Delivery) ON (x.destination_id);
CREATE INDEX delivery_created_at IF NOT EXISTS FOR (x:Delivery) ON (x.created_at);
