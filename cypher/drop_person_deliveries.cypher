// Erasure's part of the outbox: deletes the deliveries not yet made of an erased person
// (their events, and identity changes that name the cluster) and blanks the stored
// identity-change data of those already made. Run in the erasure's transaction, before
// the events are deleted.
// params: $cluster_id
// returns: dropped (count deleted), redacted (count blanked)
CALL () {
  OPTIONAL MATCH (:Profile {cluster_id: $cluster_id})-[:PERFORMED]->(:Event)<-[:OF]-(x:Delivery)
  WHERE x.status IN ['pending', 'failed']
  DETACH DELETE x
  RETURN count(x) AS by_event
}
CALL () {
  OPTIONAL MATCH (x:Delivery)
  WHERE x.status IN ['pending', 'failed'] AND $cluster_id IN x.cluster_ids
  DETACH DELETE x
  RETURN count(x) AS by_change
}
CALL () {
  OPTIONAL MATCH (x:Delivery)
  WHERE x.data_json IS NOT NULL AND $cluster_id IN x.cluster_ids
  SET x.data_json = null, x.redacted = true
  RETURN count(x) AS redacted
}
RETURN by_event + by_change AS dropped, redacted
