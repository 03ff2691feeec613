// Right to be forgotten: deletes a cluster's profiles, their events, their SAME_AS and
// HAS_ALIAS edges, the aliases no one else holds and the conflicts that name any of these;
// a device that others still hold forgets the erased events in its session
// (docs/identity.md#session-stitching).
// The cluster node stays as a tombstone (its id, size 0, erased_at: nothing personal) so
// that erasing again answers "already erased" (deletes nothing) and an unknown id 404.
// params: $cluster_id, $now
// returns: profiles, events, aliases, conflicts (counts deleted)
OPTIONAL MATCH (p:Profile {cluster_id: $cluster_id})
WITH collect(p) AS profiles
CALL (profiles) {
  UNWIND profiles AS p
  MATCH (p)-[:PERFORMED]->(e:Event)
  WITH DISTINCT e
  WITH e, e.event_id AS event_id
  DETACH DELETE e
  RETURN count(*) AS events, collect(event_id) AS event_ids
}
CALL (profiles) {
  UNWIND profiles AS p
  MATCH (p)-[:HAS_ALIAS]->(a:Alias)
  RETURN collect(DISTINCT a) AS aliases
}
WITH profiles, events, event_ids, aliases,
     [p IN profiles | p.profile_id] AS profile_ids, [a IN aliases | a.urn] AS urns
CALL (profiles) {
  UNWIND profiles AS p
  DETACH DELETE p
  RETURN count(*) AS deleted_profiles
}
CALL (profile_ids, urns) {
  MATCH (x:Conflict)
  WHERE x.profile_id IN profile_ids OR x.other_profile_id IN profile_ids OR x.alias IN urns
  WITH x, x.alias AS urn
  DELETE x
  RETURN count(*) AS conflicts, collect(urn) AS conflict_urns
}
CALL (urns, conflict_urns) {
  UNWIND urns + conflict_urns AS urn
  WITH DISTINCT urn
  MATCH (a:Alias {urn: urn})
  WHERE NOT EXISTS { (a)<-[:HAS_ALIAS]-(:Profile) }
  DETACH DELETE a
  RETURN count(*) AS deleted_aliases
}
CALL (urns, event_ids) {
  UNWIND urns AS urn
  MATCH (a:Alias {urn: urn})
  WHERE a.session IS NOT NULL
  WITH a, [x IN a.session WHERE NOT x IN event_ids] AS kept
  SET a.session = CASE WHEN size(kept) > 0 THEN kept END
}
CALL () {
  OPTIONAL MATCH (c:Cluster {cluster_id: $cluster_id})
  SET c.size = 0, c.erased_at = coalesce(c.erased_at, $now)
  RETURN count(c) AS clusters
}
RETURN deleted_profiles AS profiles, events, deleted_aliases AS aliases, conflicts
