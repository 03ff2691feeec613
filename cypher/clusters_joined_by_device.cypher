// For `converge-graph policy check`: clusters a device hand-over would have kept apart —
// joined by a SAME_AS link whose only evidence is device aliases (cookies), while holding
// two or more distinct login identities of one type.
// params: $device_types (list of alias types), $handover_types (list of alias types)
// returns: cluster_id, type, values (distinct login identities of that type), links
//          (device-only links in the cluster)
MATCH (p:Profile)-[s:SAME_AS]->(:Profile)
WHERE size(s.via) > 0
  AND all(urn IN s.via WHERE split(urn, ':')[1] IN $device_types)
WITH p.cluster_id AS cluster_id, count(s) AS links
MATCH (m:Profile {cluster_id: cluster_id})-[:HAS_ALIAS]->(a:Alias)
WHERE a.type IN $handover_types
WITH cluster_id, links, a.type AS type, count(DISTINCT a) AS values
WHERE values >= 2
RETURN cluster_id, type, values, links
ORDER BY values DESC, cluster_id, type
