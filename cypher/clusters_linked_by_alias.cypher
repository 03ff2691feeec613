// The clusters in which an alias is evidence on a SAME_AS edge, found through the alias's
// holders and the cluster_id index (no scan of all edges).
// params: $urn
// returns: cluster_id
MATCH (:Alias {urn: $urn})<-[:HAS_ALIAS]-(h:Profile)
WITH DISTINCT h.cluster_id AS cid
MATCH (p:Profile {cluster_id: cid})-[s:SAME_AS]->(:Profile)
WHERE $urn IN s.via
RETURN DISTINCT cid AS cluster_id
