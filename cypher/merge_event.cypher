// Stores an event once per event_id across all datasources (MERGE under the unique
// constraint: first write wins). A repeat only counts itself in `duplicates` and
// `duplicate_sources`; it returns the profile that performed the original.
// params: $event_id, $fields (map: event_name, method, timestamp, received_at,
//         source_id, properties_json), $props (map of `prop.<key>` scalars), $source_id
// returns: created (bool), link_blocked (bool: unmerged, links nothing),
//          performer ({profile_id, cluster_id, created_at} or null)
MERGE (e:Event {event_id: $event_id})
  ON CREATE SET e += $fields, e += $props
  ON MATCH SET e.duplicates = coalesce(e.duplicates, 0) + 1,
               e.duplicate_sources = coalesce(e.duplicate_sources, []) + $source_id
WITH e
OPTIONAL MATCH (q:Profile)-[:PERFORMED]->(e)
RETURN e.duplicates IS NULL AS created, coalesce(e.link_blocked, false) AS link_blocked,
       CASE WHEN q IS NULL THEN null
            ELSE {profile_id: q.profile_id, cluster_id: q.cluster_id, created_at: q.created_at}
       END AS performer
