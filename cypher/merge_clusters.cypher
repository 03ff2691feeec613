// Union by size: the losing clusters' profiles take the winner's cluster_id (an index
// seek per loser); a loser keeps a `merged_into` pointer so its old id still resolves.
// params: $winner, $losers (list of cluster ids), $now (datetime)
// returns: relabelled (count of profiles that changed cluster)
MATCH (w:Cluster {cluster_id: $winner})
CALL (w) {
  UNWIND $losers AS lid
  MATCH (l:Cluster {cluster_id: lid})
  SET w.size = w.size + l.size, l.size = 0, l.merged_into = $winner, l.merged_at = $now
  RETURN count(l) AS merged
}
CALL () {
  MATCH (p:Profile) WHERE p.cluster_id IN $losers
  SET p.cluster_id = $winner
  RETURN count(p) AS relabelled
}
RETURN relabelled
