// Creates the profiles a batch started, each in its final cluster.
// params: $profiles (list of {profile_id, cluster_id, created_at})
// returns: created (count)
UNWIND $profiles AS row
CREATE (p:Profile {profile_id: row.profile_id, cluster_id: row.cluster_id,
                   created_at: row.created_at, updated_at: row.created_at})
RETURN count(p) AS created
