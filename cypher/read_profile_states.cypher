// The stored profile properties of the profiles a batch may write to, with the event
// time each key was last set at ("latest wins" per key), read under their clusters' locks.
// params: $profile_ids (list)
// returns: profile_id, properties_json, property_ts_json
UNWIND $profile_ids AS pid
MATCH (p:Profile {profile_id: pid})
RETURN p.profile_id AS profile_id, p.properties_json AS properties_json,
       p.property_ts_json AS property_ts_json
