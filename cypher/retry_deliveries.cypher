// Puts dead (or failed) deliveries back in line for an attempt now, keeping their
// webhook-id; the retry window starts again from now (retry_from).
// params: $destination (name or null), $status ('dead' | 'failed'), $ids (list or null),
//   $now (datetime)
// returns: retried (count)
MATCH (x:Delivery)-[:TO]->(dst:Destination)
WHERE x.status = $status AND ($destination IS NULL OR dst.name = $destination)
  AND ($ids IS NULL OR x.delivery_id IN $ids)
SET x.status = 'pending', x.next_attempt_at = $now, x.retry_from = $now,
    x.leased_until = null, x.lease = null, x.finished_at = null
RETURN count(x) AS retried
