// For `converge-graph policy check`: per cluster and alias type, how many distinct
// values the cluster holds (cookies left out by the caller's $unlimited list).
// params: $unlimited (list of alias types), $min_count (int)
// returns: cluster_id, type, values
MATCH (p:Profile)-[:HAS_ALIAS]->(a:Alias)
WHERE NOT a.type IN $unlimited
WITH p.cluster_id AS cluster_id, a.type AS type, count(DISTINCT a) AS values
WHERE values >= $min_count
RETURN cluster_id, type, values
ORDER BY values DESC, cluster_id
