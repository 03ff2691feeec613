// Removes a destination by name, with every delivery recorded for it.
// params: $name
// returns: destination_id, deliveries (count deleted) (no row: no such destination)
MATCH (d:Destination {name: $name})
CALL (d) {
  OPTIONAL MATCH (x:Delivery {destination_id: d.destination_id})
  DETACH DELETE x
  RETURN count(x) AS deliveries
}
WITH d, d.destination_id AS destination_id, deliveries
DETACH DELETE d
RETURN destination_id, deliveries
