// The aliases each cluster holds, except types the policy does not limit (cookies),
// read under the clusters' locks to check merge protection limits.
// params: $cluster_ids (list), $unlimited (list of alias types to leave out)
// returns: cluster_id, urns
UNWIND $cluster_ids AS cid
MATCH (p:Profile {cluster_id: cid})-[:HAS_ALIAS]->(a:Alias)
WHERE NOT a.type IN $unlimited
RETURN cid AS cluster_id, collect(DISTINCT a.urn) AS urns
