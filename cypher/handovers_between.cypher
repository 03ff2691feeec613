// For explain: the device hand-overs that kept two clusters apart — each :Conflict of
// kind device_handover whose write's profile and earlier holder are now in these two
// clusters (either way round), oldest first.
// params: $cluster_a, $cluster_b
// returns: conflict_id, alias, reason, event_id, source_id, profile_id, other_profile_id,
//          created_at
MATCH (x:Conflict {kind: 'device_handover'})
MATCH (p:Profile {profile_id: x.profile_id}), (q:Profile {profile_id: x.other_profile_id})
WHERE (p.cluster_id = $cluster_a AND q.cluster_id = $cluster_b)
   OR (p.cluster_id = $cluster_b AND q.cluster_id = $cluster_a)
RETURN x.conflict_id AS conflict_id, x.alias AS alias, x.reason AS reason,
       x.event_id AS event_id, x.source_id AS source_id, x.profile_id AS profile_id,
       x.other_profile_id AS other_profile_id, x.created_at AS created_at
ORDER BY x.created_at, x.conflict_id
