// Write-locks the given clusters (in the order given: sorted ids) and then re-reads,
// under those locks, the cluster of each profile involved in the write. A profile
// whose cluster is not among the locked ones means a concurrent merge: lock again.
// params: $cluster_ids (sorted list), $profile_ids (list), $now (datetime)
// returns: clusters (list of {cluster_id, size, created_at, merged_into}),
//          members (list of {profile_id, cluster_id})
CALL () {
  UNWIND $cluster_ids AS cid
  MATCH (c:Cluster {cluster_id: cid})
  SET c.touched_at = $now
  RETURN collect(c {.cluster_id, .size, .created_at, .merged_into}) AS clusters
}
CALL () {
  UNWIND $profile_ids AS pid
  MATCH (p:Profile {profile_id: pid})
  RETURN collect(p {.profile_id, .cluster_id}) AS members
}
RETURN clusters, members
