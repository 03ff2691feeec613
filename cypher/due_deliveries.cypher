// Deliveries due for an attempt, not leased by a worker, to an enabled destination,
// oldest due first: the candidates a worker then locks and claims (claim_deliveries
// re-checks them under lock).
// params: $now (datetime), $limit (int)
// returns: delivery_id
MATCH (x:Delivery)
WHERE x.status IN ['pending', 'failed'] AND x.next_attempt_at <= $now
  AND (x.leased_until IS NULL OR x.leased_until <= $now)
  AND EXISTS { (x)-[:TO]->(:Destination {enabled: true}) }
RETURN x.delivery_id AS delivery_id
ORDER BY x.next_attempt_at
LIMIT $limit
