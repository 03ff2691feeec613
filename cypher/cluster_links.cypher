// Every SAME_AS edge of a cluster with its evidence: the aliases, the event that brought
// it, that event's datasource and time. Used to explain how two profiles are joined.
// params: $cluster_id
// returns: from, to, via, reason, event_id, created_at, datasource, event_time
MATCH (p:Profile {cluster_id: $cluster_id})-[s:SAME_AS]->(q:Profile)
OPTIONAL MATCH (e:Event {event_id: s.event_id})
OPTIONAL MATCH (e)-[:FROM]->(d:Datasource)
RETURN p.profile_id AS from, q.profile_id AS to, s.via AS via, s.reason AS reason,
       s.event_id AS event_id, s.created_at AS created_at, d.name AS datasource,
       e.timestamp AS event_time
ORDER BY s.created_at
