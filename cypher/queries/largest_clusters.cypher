// Largest clusters and their SAME_AS evidence: over-merge suspects (many profiles, several emails or customer ids).
// Sizes are counted from Profile.cluster_id (the truth), not from the :Cluster bookkeeping node.
// `evidence` lists the distinct evidence URNs of the cluster's links, oldest link first, at most 25;
// `emails` and `customer_ids` count distinct email and customer_id/user_id aliases in the cluster.
// params: $limit (int, default 10) — at most this many clusters
// returns: cluster_id, profiles, links, reasons, evidence, emails, customer_ids, events
MATCH (p:Profile)
WITH p.cluster_id AS cluster_id, count(*) AS profiles
ORDER BY profiles DESC, cluster_id
LIMIT $limit
CALL (cluster_id) {
  OPTIONAL MATCH (:Profile {cluster_id: cluster_id})-[r:SAME_AS]->(:Profile)
  WITH r ORDER BY r.created_at
  RETURN count(r) AS links,
         collect(DISTINCT r.reason) AS reasons,
         reduce(acc = [], via IN collect(r.via) | acc + [u IN via WHERE NOT u IN acc]) AS evidence
}
CALL (cluster_id) {
  OPTIONAL MATCH (:Profile {cluster_id: cluster_id})-[:HAS_ALIAS]->(a:Alias)
  WHERE a.type IN ['email', 'customer_id', 'user_id']
  WITH DISTINCT a
  RETURN count(CASE WHEN a.type = 'email' THEN a END) AS emails,
         count(CASE WHEN a.type <> 'email' THEN a END) AS customer_ids
}
CALL (cluster_id) {
  OPTIONAL MATCH (:Profile {cluster_id: cluster_id})-[:PERFORMED]->(e:Event)
  RETURN count(e) AS events
}
RETURN cluster_id, profiles, links, reasons, evidence[..25] AS evidence, emails, customer_ids, events
ORDER BY profiles DESC, cluster_id
