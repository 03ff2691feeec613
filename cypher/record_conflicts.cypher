// Keeps refused merges and quarantined aliases for review (GET /v1/conflicts).
// params: $conflicts (list of {conflict_id, kind, alias, reason, event_id, source_id,
//         profile_id, created_at})
// returns: recorded (count)
UNWIND $conflicts AS c
CREATE (x:Conflict {conflict_id: c.conflict_id, kind: c.kind, alias: c.alias,
                    reason: c.reason, event_id: c.event_id, source_id: c.source_id,
                    profile_id: c.profile_id, created_at: c.created_at})
RETURN count(x) AS recorded
