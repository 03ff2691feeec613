// Records the outcomes of one claim's attempts in one transaction and releases their
// leases, where this worker still holds them (a lease that ran out may have been claimed
// again; that worker records its own).
// params: $lease (the claim's token), $now (datetime),
//   $rows [{delivery_id, status ('delivered' | 'failed' | 'dead' | 'skipped'),
//           attempted (bool: an HTTP request was made), next_attempt_at (or null),
//           reason, response_status (or null), response_body (or null)}]
// returns: delivery_id (one row per outcome recorded)
UNWIND $rows AS row
MATCH (x:Delivery {delivery_id: row.delivery_id})
WHERE x.lease = $lease
SET x.status = row.status,
    x.attempts = x.attempts + CASE WHEN row.attempted THEN 1 ELSE 0 END,
    x.last_attempt_at = CASE WHEN row.attempted THEN $now ELSE x.last_attempt_at END,
    x.next_attempt_at = row.next_attempt_at, x.reason = row.reason,
    x.response_status = row.response_status, x.response_body = row.response_body,
    x.delivered_at = CASE WHEN row.status = 'delivered' THEN $now ELSE x.delivered_at END,
    x.finished_at = CASE WHEN row.status IN ['delivered', 'dead', 'skipped'] THEN $now
                         ELSE null END,
    x.lease = null, x.leased_until = null
RETURN x.delivery_id AS delivery_id
