// Unmerge by event: the event stops linking (link_blocked) and every shared_event
// SAME_AS edge it is evidence of, in the given clusters, is deleted.
// params: $event_id, $cluster_ids (list), $now (datetime)
// returns: removed
MATCH (e:Event {event_id: $event_id})
SET e.link_blocked = true, e.link_blocked_at = $now
WITH e
CALL (e) {
  UNWIND $cluster_ids AS cid
  MATCH (p:Profile {cluster_id: cid})-[s:SAME_AS {reason: 'shared_event'}]->(:Profile)
  WHERE s.event_id = $event_id
  DELETE s
  RETURN count(*) AS removed
}
RETURN removed
