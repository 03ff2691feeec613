// A cluster's totals, computed in the database whatever its size: profiles, links,
// events and the span of their times.
// params: $cluster_id
// returns: profiles, links, events, first_seen, last_seen (profiles 0: no such cluster)
MATCH (p:Profile {cluster_id: $cluster_id})
CALL (p) {
  OPTIONAL MATCH (p)-[:PERFORMED]->(e:Event)
  RETURN count(e) AS events, min(e.timestamp) AS first_seen, max(e.timestamp) AS last_seen
}
RETURN count(p) AS profiles, sum(COUNT { (p)-[:SAME_AS]->(:Profile) }) AS links,
       sum(events) AS events, min(first_seen) AS first_seen, max(last_seen) AS last_seen
