// One page of a cluster's SAME_AS links with their evidence, in (created_at, from, to)
// order after the cursor.
// params: $cluster_id, $after_created (datetime or null), $after_from (string or null),
//         $after_to (string or null), $limit
// returns: from, to, via, reason, event_id, created_at — one row per link, at most $limit (and trust: docs/security.md)
MATCH (p:Profile {cluster_id: $cluster_id})-[s:SAME_AS]->(q:Profile)
WHERE $after_from IS NULL OR s.created_at > $after_created
   OR (s.created_at = $after_created AND (p.profile_id > $after_from
       OR (p.profile_id = $after_from AND q.profile_id > $after_to)))
WITH p, s, q
ORDER BY s.created_at, p.profile_id, q.profile_id
LIMIT $limit
RETURN p.profile_id AS from, q.profile_id AS to, s.via AS via, s.reason AS reason,
       s.event_id AS event_id, s.created_at AS created_at,
       coalesce(s.trust, 'trusted') AS trust
