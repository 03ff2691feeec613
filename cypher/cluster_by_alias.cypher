// The cluster holding an alias (the urn is normalised by the caller first).
// params: $urn
// returns: cluster_id (at most one row; every holder of an alias is in one cluster
//          unless merge protection kept them apart, then the oldest holder's)
MATCH (a:Alias {urn: $urn})<-[:HAS_ALIAS]-(p:Profile)
RETURN p.cluster_id AS cluster_id
ORDER BY p.created_at
LIMIT 1
