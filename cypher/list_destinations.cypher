// All destinations, oldest first, with their deliveries counted by status.
// params: none
// returns: destination (map, without the secret), counts (list of {status, n})
MATCH (d:Destination)
CALL (d) {
  OPTIONAL MATCH (x:Delivery {destination_id: d.destination_id})
  WITH x.status AS status, count(x) AS n WHERE status IS NOT NULL
  RETURN collect({status: status, n: n}) AS counts
}
RETURN d {.destination_id, .name, .url, .events, .methods, .format, .identity_events,
          .purpose, .enabled, .created_at} AS destination, counts
ORDER BY d.created_at
