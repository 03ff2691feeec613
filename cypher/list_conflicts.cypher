// Refused merges and quarantined aliases, newest first, with the write that caused them.
// params: $limit (int)
// returns: conflict_id, kind, alias, reason, event_id, source_id, profile_id,
//          other_profile_id (a device hand-over's earlier holder, else null), created_at
MATCH (x:Conflict)
RETURN x.conflict_id AS conflict_id, x.kind AS kind, x.alias AS alias, x.reason AS reason,
       x.event_id AS event_id, x.source_id AS source_id, x.profile_id AS profile_id,
       x.other_profile_id AS other_profile_id, x.created_at AS created_at
ORDER BY x.created_at DESC, x.conflict_id DESC
LIMIT $limit
