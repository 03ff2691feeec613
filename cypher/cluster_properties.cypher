// The stored properties of every profile of a cluster, for the merged view
// (per key, the value written with the latest event time wins).
// params: $cluster_id
// returns: properties_json, property_ts_json — one row per profile
MATCH (p:Profile {cluster_id: $cluster_id})
RETURN p.properties_json AS properties_json, p.property_ts_json AS property_ts_json
