// The transactional outbox (docs/destinations.md#the-outbox): run in the transaction that
// stores new events or changes identities, it records one :Delivery per enabled
// destination whose filter matches, so a delivery exists if and only if its cause was
// committed. Only first writes of an event_id come here, so an order reported by the
// browser and the server is delivered once.
// params: $now (ISO-8601 string), $d: a map of the two lists (one parameter: Neo4j plans
//   this once, a list parameter's emptiness being part of its plan cache key)
//   d.events  [{event_id, event_name, method}]                  events stored just now
//   d.changes [{topic, cluster_id, cluster_ids, data_json}]     identity.merged|split|erased
// returns: events, changes (deliveries recorded of each kind)
CALL () {
  UNWIND $d.events AS ev
  MATCH (dst:Destination {enabled: true})
  WHERE (dst.events IS NULL OR ev.event_name IN dst.events)
    AND (dst.methods IS NULL OR ev.method IN dst.methods)
  MATCH (e:Event {event_id: ev.event_id})
  CREATE (x:Delivery {delivery_id: 'msg_' + replace(randomUUID(), '-', ''), topic: 'event',
                      event_id: ev.event_id, destination_id: dst.destination_id,
                      status: 'pending', attempts: 0, created_at: datetime($now),
                      next_attempt_at: datetime($now)})
  CREATE (x)-[:TO]->(dst), (x)-[:OF]->(e)
  RETURN count(x) AS events
}
CALL () {
  UNWIND $d.changes AS ch
  MATCH (dst:Destination {enabled: true, identity_events: true})
  CREATE (x:Delivery {delivery_id: 'msg_' + replace(randomUUID(), '-', ''), topic: ch.topic,
                      cluster_id: ch.cluster_id, cluster_ids: ch.cluster_ids,
                      data_json: ch.data_json, destination_id: dst.destination_id,
                      status: 'pending', attempts: 0, created_at: datetime($now),
                      next_attempt_at: datetime($now)})
  CREATE (x)-[:TO]->(dst)
  RETURN count(x) AS changes
}
RETURN events, changes
