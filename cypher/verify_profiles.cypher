// Every profile and its maintained cluster_id, streamed for `converge-graph verify`.
// params: none
// returns: profile_id, cluster_id
MATCH (p:Profile)
RETURN p.profile_id AS profile_id, p.cluster_id AS cluster_id
