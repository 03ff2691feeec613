// One event with the profile that performed it and its datasource.
// params: $event_id
// returns: event_id, event_name, method, timestamp, received_at, properties_json,
//          profile_id, cluster_id, datasource
MATCH (e:Event {event_id: $event_id})
OPTIONAL MATCH (p:Profile)-[:PERFORMED]->(e)
OPTIONAL MATCH (e)-[:FROM]->(d:Datasource)
RETURN e.event_id AS event_id, e.event_name AS event_name, e.method AS method,
       e.timestamp AS timestamp, e.received_at AS received_at,
       e.properties_json AS properties_json, p.profile_id AS profile_id,
       p.cluster_id AS cluster_id, d.name AS datasource
