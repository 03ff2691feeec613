// Creates a profile in a cluster; the cluster node is created when new, and its
// size counts the profile.
// params: $profile_id, $cluster_id, $now (datetime)
// returns: profile_id
MERGE (c:Cluster {cluster_id: $cluster_id})
  ON CREATE SET c.size = 0, c.created_at = $now
SET c.size = c.size + 1, c.touched_at = $now
CREATE (p:Profile {profile_id: $profile_id, cluster_id: $cluster_id,
                   created_at: $now, updated_at: $now})
RETURN p.profile_id AS profile_id
