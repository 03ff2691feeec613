// One profile with its aliases and stored properties.
// params: $profile_id
// returns: profile (map), aliases
MATCH (p:Profile {profile_id: $profile_id})
RETURN p {.profile_id, .cluster_id, .created_at, .updated_at, .properties_json,
          .property_ts_json} AS profile,
       [(p)-[:HAS_ALIAS]->(a:Alias) | a.urn] AS aliases
