// One page of a cluster's profiles through the cluster_id index, in (created_at,
// profile_id) order after the cursor, each with its aliases and stored properties. Paged so
// that a cluster of any size reads in bounded time (docs/api.md#reads).
// params: $cluster_id, $after_created (datetime or null), $after_id (string or null), $limit
// returns: profile (map), aliases — one row per profile, at most $limit
MATCH (p:Profile {cluster_id: $cluster_id})
WHERE $after_id IS NULL OR p.created_at > $after_created
   OR (p.created_at = $after_created AND p.profile_id > $after_id)
WITH p
ORDER BY p.created_at, p.profile_id
LIMIT $limit
RETURN p {.profile_id, .cluster_id, .created_at, .updated_at, .properties_json,
          .property_ts_json} AS profile,
       [(p)-[:HAS_ALIAS]->(a:Alias) | a.urn] AS aliases
