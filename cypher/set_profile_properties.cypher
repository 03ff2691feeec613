// Writes profile properties: user keys travel as map keys in node_props (never as query
// text), so a key such as "a`}) DETACH DELETE n //" is stored verbatim.
// params: $rows (list of {profile_id, node_props (null removes a key), properties_json,
//         property_ts_json}), $now (datetime)
// returns: written (count)
UNWIND $rows AS row
MATCH (p:Profile {profile_id: row.profile_id})
SET p += row.node_props,
    p.properties_json = row.properties_json,
    p.property_ts_json = row.property_ts_json,
    p.updated_at = $now
RETURN count(p) AS written
