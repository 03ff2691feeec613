// Writes profile properties: user keys travel as map keys in $node_props (never as
// query text), so a key such as "a`}) DETACH DELETE n //" is stored verbatim.
// params: $profile_id, $node_props (map; null values remove a key), $properties_json,
//         $property_ts_json, $now (datetime)
// returns: profile_id
MATCH (p:Profile {profile_id: $profile_id})
SET p += $node_props,
    p.properties_json = $properties_json,
    p.property_ts_json = $property_ts_json,
    p.updated_at = $now
RETURN p.profile_id AS profile_id
