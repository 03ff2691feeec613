// A page of a cluster in one round trip (docs/api.md#reads): the cluster named by its id,
// or by an alias it holds (then the alias's cluster as cluster_by_alias.cypher finds it:
// the oldest holder's, a device's last user's). The totals are the whole cluster's,
// computed in the database whatever its size; profiles and links are pages of at most
// $profile_limit and $link_limit rows after their cursors (a limit of 0 skips that list:
// its pages are done); the profiles' stored properties (for the merged view) only when
// asked, as they are O(cluster size). Times are returned as ISO-8601 text
// (src/converge_graph/store/values.py).
// params: $cluster_id (string or null), $urn (string or null: used when $cluster_id is
//         null), $device_types (the policy's device alias types), $profile_limit,
//         $after_created (ISO-8601 or null), $after_id (string or null), $link_limit,
//         $link_after_created (ISO-8601 or null), $link_after_from, $link_after_to
//         (strings or null), $with_properties (boolean)
// returns: cluster_id (null: no such alias), summary {profiles, links, events, first_seen,
//          last_seen} (profiles 0: no such cluster), profiles [{profile: {profile_id,
//          cluster_id, properties_json, created_at, updated_at}, aliases}],
//          links [{from, to, via, reason, event_id, created_at, trust}],
//          properties [{properties_json, property_ts_json}]
CALL () {
  OPTIONAL MATCH (a:Alias {urn: $urn})<-[r:HAS_ALIAS]-(h:Profile)
  WITH h, a, r
  ORDER BY CASE WHEN a.type IN $device_types
                THEN coalesce(r.last_seen, datetime({epochSeconds: 0})) END DESC,
           h.created_at
  LIMIT 1
  RETURN coalesce($cluster_id, h.cluster_id) AS cid
}
CALL (cid) {
  MATCH (p:Profile {cluster_id: cid})
  CALL (p) {
    OPTIONAL MATCH (p)-[:PERFORMED]->(e:Event)
    RETURN count(e) AS events, min(e.timestamp) AS first_seen, max(e.timestamp) AS last_seen
  }
  RETURN {profiles: count(p), links: sum(COUNT { (p)-[:SAME_AS]->(:Profile) }),
          events: sum(events), first_seen: toString(min(first_seen)),
          last_seen: toString(max(last_seen))} AS summary
}
CALL (cid) {
  MATCH (p:Profile {cluster_id: cid})
  WHERE $after_id IS NULL OR p.created_at > datetime($after_created)
     OR (p.created_at = datetime($after_created) AND p.profile_id > $after_id)
  WITH p
  ORDER BY p.created_at, p.profile_id
  LIMIT $profile_limit
  RETURN collect({
    profile: p {.profile_id, .cluster_id, .properties_json, created_at: toString(p.created_at),
                updated_at: toString(p.updated_at)},
    aliases: [(p)-[:HAS_ALIAS]->(a:Alias) | a.urn]}) AS profiles
}
CALL (cid) {
  MATCH (p:Profile {cluster_id: cid})-[s:SAME_AS]->(q:Profile)
  WHERE $link_after_from IS NULL OR s.created_at > datetime($link_after_created)
     OR (s.created_at = datetime($link_after_created) AND (p.profile_id > $link_after_from
         OR (p.profile_id = $link_after_from AND q.profile_id > $link_after_to)))
  WITH p, s, q
  ORDER BY s.created_at, p.profile_id, q.profile_id
  LIMIT $link_limit
  RETURN collect({from: p.profile_id, to: q.profile_id, via: s.via, reason: s.reason,
                  event_id: s.event_id, created_at: toString(s.created_at),
                  trust: coalesce(s.trust, 'trusted')}) AS links
}
CALL (cid) {
  MATCH (p:Profile {cluster_id: cid})
  WHERE $with_properties
  RETURN collect(p {.properties_json, .property_ts_json}) AS properties
}
RETURN cid AS cluster_id, summary, profiles, links, properties
