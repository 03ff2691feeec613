// Orphan profiles: a profile is an orphan when it holds no alias (nothing can resolve to it again) or performed no event.
// reason is 'no_aliases_no_events' (an empty shell), 'no_aliases' or 'no_events' (e.g. created by a `set` write
// only); `links` counts its SAME_AS links and `cluster_size` the profiles sharing its cluster_id.
// params: $limit (int, default 50) — at most this many profiles, empty shells first, then oldest first
// returns: profile_id, cluster_id, reason, aliases, events, links, cluster_size, created_at, updated_at
MATCH (p:Profile)
WITH p, COUNT { (p)-[:HAS_ALIAS]->() } AS aliases, COUNT { (p)-[:PERFORMED]->() } AS events
WHERE aliases = 0 OR events = 0
WITH p, aliases, events,
     CASE WHEN aliases = 0 AND events = 0 THEN 'no_aliases_no_events'
          WHEN aliases = 0 THEN 'no_aliases'
          ELSE 'no_events' END AS reason
ORDER BY CASE reason WHEN 'no_aliases_no_events' THEN 0 WHEN 'no_aliases' THEN 1 ELSE 2 END,
         p.created_at, p.profile_id
LIMIT $limit
RETURN p.profile_id AS profile_id,
       p.cluster_id AS cluster_id,
       reason,
       aliases,
       events,
       COUNT { (p)-[:SAME_AS]-() } AS links,
       COUNT { (q:Profile {cluster_id: p.cluster_id}) } AS cluster_size,
       p.created_at AS created_at,
       p.updated_at AS updated_at
