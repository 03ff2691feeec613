// Deliveries, newest first, optionally of one destination (by name) and one status.
// params: $destination (name or null), $status (or null), $limit (int)
// returns: delivery (map), destination (name)
MATCH (x:Delivery)-[:TO]->(dst:Destination)
WHERE ($destination IS NULL OR dst.name = $destination)
  AND ($status IS NULL OR x.status = $status)
RETURN x {.delivery_id, .topic, .event_id, .cluster_id, .status, .attempts, .created_at,
          .next_attempt_at, .last_attempt_at, .delivered_at, .reason, .response_status,
          .response_body} AS delivery, dst.name AS destination
ORDER BY x.created_at DESC
LIMIT $limit
