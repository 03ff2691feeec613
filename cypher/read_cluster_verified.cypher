// The verified view's raw material (docs/security.md#verified-reads): one cluster through
// the cluster_id index, each profile with its aliases, stored
// properties, outgoing SAME_AS links with evidence, and event count and time span.
// params: $cluster_id
// returns: profile (map), aliases, vouched_aliases (attached by trusted or signed evidence,
//          or a cookie), links (each with its trust), events, first_seen, last_seen — one
//          row per profile; a missing trust predates the trust model and reads as 'trusted'
MATCH (p:Profile {cluster_id: $cluster_id})
CALL (p) {
  OPTIONAL MATCH (p)-[:PERFORMED]->(e:Event)
  RETURN count(e) AS events, min(e.timestamp) AS first_seen, max(e.timestamp) AS last_seen
}
RETURN p {.profile_id, .cluster_id, .created_at, .updated_at, .properties_json,
          .property_ts_json} AS profile,
       [(p)-[:HAS_ALIAS]->(a:Alias) | a.urn] AS aliases,
       [(p)-[r:HAS_ALIAS]->(a:Alias)
         WHERE a.type = 'cookie' OR coalesce(r.trust, 'trusted') <> 'claim' | a.urn]
         AS vouched_aliases,
       [(p)-[s:SAME_AS]->(q:Profile) |
         {from: p.profile_id, to: q.profile_id, via: s.via, reason: s.reason,
          event_id: s.event_id, created_at: s.created_at,
          trust: coalesce(s.trust, 'trusted')}] AS links,
       events, first_seen, last_seen
ORDER BY profile.created_at, profile.profile_id
