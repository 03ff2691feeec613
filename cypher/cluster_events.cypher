// A person's timeline across devices and datasources, newest first, one page at a
// time: the cursor is the (timestamp, event_id) of the last event of the previous page.
// params: $cluster_id, $limit (int), $before_ts (datetime or null), $before_id (string or null)
// returns: event_id, event_name, method, timestamp, properties_json, profile_id, datasource
MATCH (p:Profile {cluster_id: $cluster_id})-[:PERFORMED]->(e:Event)
WHERE $before_ts IS NULL OR e.timestamp < $before_ts
   OR (e.timestamp = $before_ts AND e.event_id < $before_id)
OPTIONAL MATCH (e)-[:FROM]->(d:Datasource)
RETURN e.event_id AS event_id, e.event_name AS event_name, e.method AS method,
       e.timestamp AS timestamp, e.properties_json AS properties_json,
       p.profile_id AS profile_id, d.name AS datasource
ORDER BY e.timestamp DESC, e.event_id DESC
LIMIT $limit
