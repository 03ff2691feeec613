// Write-locks the given clusters (in the order given: sorted ids) and then re-reads,
// under those locks, the cluster of each profile involved in the write. A profile
// whose cluster is not among the locked ones means a concurrent merge: lock again.
// Also reads, under the same locks, what merge protection and "latest wins" need: the
// aliases each locked cluster holds (except unlimited types such as cookies), whether
// vouched evidence established it (an alias attached by a trusted or signed write; a
// missing trust predates the model and counts as trusted), and the stored properties
// of the given profiles.
// params: $now (ISO-8601 string), $d: a map of the lists (one parameter, so that Neo4j plans this
//         once: a list parameter's emptiness and length are part of its plan cache key):
//         d.cluster_ids (sorted list), d.profile_ids (list), d.unlimited (alias types to
//         leave out), d.state_ids (profile ids whose properties to read; empty when the
//         writes set none)
// returns: clusters (list of {cluster_id, size, created_at (ISO-8601), merged_into}),
//          members (list of {profile_id, cluster_id}),
//          urns (list of {cluster_id, urns, established}),
//          states (list of {profile_id, properties_json, property_ts_json})
CALL () {
  UNWIND $d.cluster_ids AS cid
  MATCH (c:Cluster {cluster_id: cid})
  SET c.touched_at = datetime($now)
  RETURN collect(c {.cluster_id, .size, created_at: toString(c.created_at), .merged_into})
    AS clusters
}
CALL () {
  UNWIND $d.profile_ids AS pid
  MATCH (p:Profile {profile_id: pid})
  RETURN collect(p {.profile_id, .cluster_id}) AS members
}
CALL () {
  UNWIND $d.cluster_ids AS cid
  CALL (cid) {
    OPTIONAL MATCH (p:Profile {cluster_id: cid})-[r:HAS_ALIAS]->(a:Alias)
    RETURN collect(DISTINCT CASE WHEN NOT a.type IN $d.unlimited THEN a.urn END) AS held,
           count(CASE WHEN r IS NOT NULL AND coalesce(r.trust, 'trusted') <> 'claim'
                      THEN 1 END) > 0
             AS established
  }
  RETURN collect({cluster_id: cid, urns: held, established: established}) AS urns
}
CALL () {
  UNWIND $d.state_ids AS pid
  MATCH (p:Profile {profile_id: pid})
  RETURN collect(p {.profile_id, .properties_json, .property_ts_json}) AS states
}
RETURN clusters, members, urns, states
