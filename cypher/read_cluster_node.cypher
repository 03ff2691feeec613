// The bookkeeping node of a cluster id: its size and, for an id merged away, the
// cluster that absorbed it (for 308 redirects).
// params: $cluster_id
// returns: cluster_id, size, merged_into, split_into
MATCH (c:Cluster {cluster_id: $cluster_id})
RETURN c.cluster_id AS cluster_id, c.size AS size, c.merged_into AS merged_into,
       c.split_into AS split_into
