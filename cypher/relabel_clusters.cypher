// Union by size for existing profiles: every profile of a merged-away cluster takes the
// surviving cluster's id (an index seek on cluster_id per merged cluster).
// params: $relabels (list of {from, to})
// returns: relabelled (count of profiles)
UNWIND $relabels AS row
MATCH (p:Profile {cluster_id: row.from})
SET p.cluster_id = row.to
RETURN count(p) AS relabelled
