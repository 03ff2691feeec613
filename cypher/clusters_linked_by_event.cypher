// The cluster in which an event is evidence of a shared_event SAME_AS edge: the cluster
// of the profile that performed it.
// params: $event_id
// returns: cluster_id
MATCH (q:Profile)-[:PERFORMED]->(:Event {event_id: $event_id})
RETURN DISTINCT q.cluster_id AS cluster_id
