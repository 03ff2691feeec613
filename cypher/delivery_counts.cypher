// Deliveries by status, for /metrics and `converge-graph deliveries`.
// params: none
// returns: status, n
MATCH (x:Delivery)
RETURN x.status AS status, count(*) AS n
