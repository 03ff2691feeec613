// Splits a cluster into its true components, each under a fresh cluster_id; the old id
// keeps `split_into` so that it still resolves (to its successors).
// params: $cluster_id, $components (list of {cluster_id, profile_ids}), $now (datetime)
// returns: relabelled (count of profiles)
MATCH (old:Cluster {cluster_id: $cluster_id})
SET old.size = 0, old.split_into = [c IN $components | c.cluster_id], old.split_at = $now
WITH old
UNWIND $components AS comp
CREATE (:Cluster {cluster_id: comp.cluster_id, size: size(comp.profile_ids), created_at: $now,
                  split_from: $cluster_id, touched_at: $now})
WITH comp
UNWIND comp.profile_ids AS pid
MATCH (p:Profile {profile_id: pid})
SET p.cluster_id = comp.cluster_id
RETURN count(p) AS relabelled
