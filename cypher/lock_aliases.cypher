// Creates the write's aliases (MERGE on the unique urn) and write-locks each one, in
// urn order, so that writes sharing an alias run one after the other; then reads who
// holds each alias. Holders cannot change while the lock is held.
// params: $aliases (list of {urn, type, value}, sorted by urn), $now (datetime)
// returns: urn, quarantined, link_blocked, holders (list of {profile_id, cluster_id, created_at})
UNWIND $aliases AS row
MERGE (a:Alias {urn: row.urn})
  ON CREATE SET a.type = row.type, a.value = row.value, a.created_at = $now
SET a.last_seen = $now
RETURN a.urn AS urn, coalesce(a.quarantined, false) AS quarantined,
       coalesce(a.link_blocked, false) AS link_blocked,
       [(p:Profile)-[:HAS_ALIAS]->(a) |
         {profile_id: p.profile_id, cluster_id: p.cluster_id, created_at: p.created_at}] AS holders
