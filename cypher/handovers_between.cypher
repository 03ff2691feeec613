// For explain: what kept two clusters apart at a device — each :Conflict of kind
// device_handover (docs/identity.md#device-hand-over) or first_login (a known person's
// login that took only its session: docs/identity.md#a-known-persons-first-login) whose
// write's profile and other profile are now in these two clusters (either way round),
// oldest first.
// params: $cluster_a, $cluster_b
// returns: conflict_id, kind, alias, reason, event_id, source_id, profile_id,
//          other_profile_id, created_at
MATCH (x:Conflict) WHERE x.kind IN ['device_handover', 'first_login']
MATCH (p:Profile {profile_id: x.profile_id}), (q:Profile {profile_id: x.other_profile_id})
WHERE (p.cluster_id = $cluster_a AND q.cluster_id = $cluster_b)
   OR (p.cluster_id = $cluster_b AND q.cluster_id = $cluster_a)
RETURN x.conflict_id AS conflict_id, x.kind AS kind, x.alias AS alias, x.reason AS reason,
       x.event_id AS event_id, x.source_id AS source_id, x.profile_id AS profile_id,
       x.other_profile_id AS other_profile_id, x.created_at AS created_at
ORDER BY x.created_at, x.conflict_id
