// Hub aliases: identifiers held by many profiles (a shared in-store tablet, a cached cart token) — merge-protection candidates.
// `clusters` > 1 means the holders were kept apart (quarantine, merge limits) rather than merged.
// params: $min_profiles (int, default 5) — only aliases held by at least this many profiles
// params: $limit (int, default 50) — at most this many aliases
// returns: urn, type, profiles, clusters, first_seen, last_seen
MATCH (a:Alias)
WITH a, COUNT { (a)<-[:HAS_ALIAS]-() } AS profiles
WHERE profiles >= $min_profiles
MATCH (a)<-[h:HAS_ALIAS]-(p:Profile)
WITH a, profiles, count(DISTINCT p.cluster_id) AS clusters, min(h.first_seen) AS first_seen, max(h.last_seen) AS last_seen
RETURN a.urn AS urn, a.type AS type, profiles, clusters, first_seen, last_seen
ORDER BY profiles DESC, urn
LIMIT $limit
