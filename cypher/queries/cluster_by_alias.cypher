// Cluster by alias: every profile of the person holding an alias, with its aliases and event count.
// The cluster is read through the indexed cluster_id, so profiles that never saw the alias (another
// device, the server side) are included: that is the point of identity resolution.
// params: $urn (string) — an alias URN exactly as stored (normalised), e.g. urn:email:john.smith@apple.com
// returns: cluster_id, profile_id, email, aliases, events, created_at, updated_at
MATCH (:Alias {urn: $urn})<-[:HAS_ALIAS]-(holder:Profile)
WITH DISTINCT holder.cluster_id AS cluster_id
MATCH (p:Profile {cluster_id: cluster_id})
RETURN cluster_id,
       p.profile_id AS profile_id,
       p.`$email` AS email,
       COLLECT { MATCH (p)-[:HAS_ALIAS]->(a:Alias) RETURN a.urn ORDER BY a.urn } AS aliases,
       COUNT { (p)-[:PERFORMED]->() } AS events,
       p.created_at AS created_at,
       p.updated_at AS updated_at
ORDER BY cluster_id, created_at, profile_id
