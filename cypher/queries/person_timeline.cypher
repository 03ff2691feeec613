// A person's timeline: events of every profile in the alias's cluster, across devices and datasources, newest first.
// `device` is the browser cookie id of the profile that performed the event (null for server-side profiles).
// params: $urn (string) — an alias URN exactly as stored, e.g. urn:email:john.smith@apple.com
// params: $limit (int, default 50) — at most this many events
// returns: timestamp, event_name, method, event_id, profile_id, device, datasource, datasource_kind, properties_json
MATCH (:Alias {urn: $urn})<-[:HAS_ALIAS]-(holder:Profile)
WITH DISTINCT holder.cluster_id AS cluster_id
MATCH (p:Profile {cluster_id: cluster_id})-[:PERFORMED]->(e:Event)
OPTIONAL MATCH (e)-[:FROM]->(d:Datasource)
RETURN e.timestamp AS timestamp,
       e.event_name AS event_name,
       e.method AS method,
       e.event_id AS event_id,
       p.profile_id AS profile_id,
       COLLECT { MATCH (p)-[:HAS_ALIAS]->(c:Alias {type: 'cookie'}) RETURN c.value ORDER BY c.value LIMIT 1 }[0] AS device,
       d.name AS datasource,
       d.kind AS datasource_kind,
       e.properties_json AS properties_json
ORDER BY timestamp DESC, event_id
LIMIT $limit
