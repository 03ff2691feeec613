// Records one attempt's outcome and releases the lease, if this worker still holds it
// (a lease that ran out may have been claimed again; that worker records its own).
// params: $delivery_id, $lease, $status ('delivered' | 'failed' | 'dead' | 'skipped'),
//   $attempted (bool: an HTTP request was made), $next_attempt_at (datetime or null),
//   $now (datetime), $reason, $response_status (int or null), $response_body (or null)
// returns: delivery_id (no row: the lease was lost)
MATCH (x:Delivery {delivery_id: $delivery_id})
WHERE x.lease = $lease
SET x.status = $status,
    x.attempts = x.attempts + CASE WHEN $attempted THEN 1 ELSE 0 END,
    x.last_attempt_at = CASE WHEN $attempted THEN $now ELSE x.last_attempt_at END,
    x.next_attempt_at = $next_attempt_at, x.reason = $reason,
    x.response_status = $response_status, x.response_body = $response_body,
    x.delivered_at = CASE WHEN $status = 'delivered' THEN $now ELSE x.delivered_at END,
    x.finished_at = CASE WHEN $status IN ['delivered', 'dead', 'skipped'] THEN $now
                         ELSE null END,
    x.lease = null, x.leased_until = null
RETURN x.delivery_id AS delivery_id
