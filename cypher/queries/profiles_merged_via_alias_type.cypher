// Profiles merged through an alias type: SAME_AS links whose evidence includes a URN of that type, newest first.
// params: $type (string) — an alias type, e.g. email, phone, customer_id, cookie
// params: $limit (int, default 50) — at most this many links
// returns: created_at, from_profile, to_profile, cluster_id, via, reason, event_id
MATCH (a:Profile)-[r:SAME_AS]->(b:Profile)
WITH a, r, b, [u IN r.via WHERE u STARTS WITH 'urn:' + $type + ':'] AS via
WHERE size(via) > 0
RETURN r.created_at AS created_at,
       a.profile_id AS from_profile,
       b.profile_id AS to_profile,
       a.cluster_id AS cluster_id,
       via,
       r.reason AS reason,
       r.event_id AS event_id
ORDER BY created_at DESC, from_profile
LIMIT $limit
