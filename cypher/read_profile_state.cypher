// The stored profile properties of one profile and the event time each key was last
// set at, read under its cluster's lock for a read-modify-write of "latest wins".
// params: $profile_id
// returns: properties_json, property_ts_json
MATCH (p:Profile {profile_id: $profile_id})
RETURN p.properties_json AS properties_json, p.property_ts_json AS property_ts_json
