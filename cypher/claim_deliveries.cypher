// Claims locked deliveries that are still due and unleased (leased_until, lease) and
// returns what sending needs, read now: the destination, the event, and the person's
// current profile states and aliases (an email learned after the order is sent too).
// An identity change's person is its cluster_id; a deleted event leaves event null.
// params: $ids (delivery ids locked by lock_deliveries), $now (datetime),
//   $lease (token), $lease_until (datetime)
// returns: delivery (map), destination (map with secret), event (map or null),
//   states (list of {properties_json, property_ts_json}), aliases (list of urns)
UNWIND $ids AS id
MATCH (x:Delivery {delivery_id: id})-[:TO]->(dst:Destination)
WHERE x.status IN ['pending', 'failed'] AND x.next_attempt_at <= $now
  AND (x.leased_until IS NULL OR x.leased_until <= $now) AND dst.enabled
SET x.lease = $lease, x.leased_until = $lease_until
WITH x, dst
OPTIONAL MATCH (x)-[:OF]->(e:Event)
OPTIONAL MATCH (p:Profile)-[:PERFORMED]->(e)
OPTIONAL MATCH (e)-[:FROM]->(src:Datasource)
WITH x, dst, e, p, src, coalesce(p.cluster_id, x.cluster_id) AS cid
CALL (cid) {
  OPTIONAL MATCH (q:Profile {cluster_id: cid})
  OPTIONAL MATCH (q)-[:HAS_ALIAS]->(a:Alias)
  RETURN collect(DISTINCT q {.properties_json, .property_ts_json}) AS states,
         collect(DISTINCT a.urn) AS aliases
}
RETURN x {.delivery_id, .topic, .attempts, .created_at, .data_json, .event_id,
          window_from: coalesce(x.retry_from, x.created_at)} AS delivery,
       dst {.destination_id, .name, .url, .secret, .format, .purpose} AS destination,
       CASE WHEN e IS NULL THEN null ELSE e {.event_id, .event_name, .method, .timestamp,
         .properties_json, profile_id: p.profile_id, cluster_id: p.cluster_id,
         datasource: src.name} END AS event,
       states, aliases
