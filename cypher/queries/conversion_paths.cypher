// Conversion paths: for each 'Placed Order', the person's first touch on any device before it, the path, and the time to convert.
// Touches are the events of every profile in the buyer's cluster at or before the order's timestamp, the
// order itself excluded; first_touch_* and time_to_convert are null when the order was the first event.
// params: $limit (int, default 50) — at most this many orders, newest first
// returns: ordered_at, order_event_id, order_total, cluster_id, buyer_profile_id, first_touch_at, first_touch_event, first_touch_datasource, first_touch_profile_id, touches, devices, path, time_to_convert, seconds_to_convert
MATCH (buyer:Profile)-[:PERFORMED]->(o:Event {event_name: 'Placed Order'})
WITH buyer, o
ORDER BY o.timestamp DESC, o.event_id
LIMIT $limit
CALL (buyer, o) {
  MATCH (p:Profile {cluster_id: buyer.cluster_id})-[:PERFORMED]->(t:Event)
  WHERE t.timestamp <= o.timestamp AND t <> o
  WITH p, t
  ORDER BY t.timestamp, t.event_id
  RETURN collect(t) AS touches, collect(DISTINCT p.profile_id) AS devices
}
WITH buyer, o, touches, devices, touches[0] AS first
OPTIONAL MATCH (first)-[:FROM]->(fd:Datasource)
OPTIONAL MATCH (fp:Profile)-[:PERFORMED]->(first)
RETURN o.timestamp AS ordered_at,
       o.event_id AS order_event_id,
       o.`prop.total` AS order_total,
       buyer.cluster_id AS cluster_id,
       buyer.profile_id AS buyer_profile_id,
       first.timestamp AS first_touch_at,
       first.event_name AS first_touch_event,
       fd.name AS first_touch_datasource,
       fp.profile_id AS first_touch_profile_id,
       size(touches) AS touches,
       size(devices) AS devices,
       [t IN touches[..20] | t.event_name] AS path,
       duration.between(first.timestamp, o.timestamp) AS time_to_convert,
       duration.inSeconds(first.timestamp, o.timestamp).seconds AS seconds_to_convert
ORDER BY ordered_at DESC, order_event_id
