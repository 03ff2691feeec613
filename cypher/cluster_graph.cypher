// The profiles of a cluster and the SAME_AS edges each has, to recompute components
// after evidence is removed (bounded by the cluster through the cluster_id index).
// params: $cluster_id
// returns: profile_id, linked (profile ids this one has SAME_AS edges to)
MATCH (p:Profile {cluster_id: $cluster_id})
RETURN p.profile_id AS profile_id, [(p)-[:SAME_AS]->(q:Profile) | q.profile_id] AS linked
