// Enables or disables a destination by name. A disabled destination gets no new
// deliveries and its pending ones wait (they are sent once it is enabled again).
// params: $name, $enabled (bool)
// returns: destination_id (no row: no such destination)
MATCH (d:Destination {name: $name})
SET d.enabled = $enabled
RETURN d.destination_id AS destination_id
