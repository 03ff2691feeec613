// Deliveries by status, for /metrics (at every scrape) and `converge-graph deliveries`.
// Cheap whatever the history: the total comes from Neo4j's count store, each unfinished
// or refused status from the delivery_status index, and `delivered` — the status that
// grows for good — is the difference, so no delivered item is ever read
// (docs/destinations.md#operations). Under concurrent writes the figures may disagree by
// the items that changed between the count and the seeks.
// params: none
// returns: status, n
MATCH (every:Delivery)
WITH count(every) AS total
UNWIND ['pending', 'failed', 'dead', 'skipped'] AS status
CALL (status) {
  MATCH (x:Delivery {status: status})
  RETURN count(x) AS n
}
WITH total, collect({status: status, n: n}) AS counted
UNWIND counted + [{status: 'delivered',
                   n: total - reduce(sum = 0, c IN counted | sum + c.n)}] AS row
RETURN row.status AS status, row.n AS n
