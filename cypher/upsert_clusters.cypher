// Writes the clusters a batch created or changed: final sizes (union by size) and, for
// a cluster merged away, `merged_into` so that its id still resolves (308).
// params: $clusters (list of {cluster_id, size, created_at, merged_into, merged_at}),
//         $now (datetime)
// returns: written (count)
UNWIND $clusters AS row
MERGE (c:Cluster {cluster_id: row.cluster_id})
  ON CREATE SET c.created_at = row.created_at
SET c.size = row.size, c.merged_into = row.merged_into, c.merged_at = row.merged_at,
    c.touched_at = $now
RETURN count(c) AS written
