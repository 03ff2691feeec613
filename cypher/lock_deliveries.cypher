// Write-locks deliveries (ids sorted, so two workers lock in one order). A worker that
// wanted the same item waits here until the first one's claim commits; claim_deliveries,
// a separate statement, then reads the committed lease and leaves the item alone.
// params: $ids (sorted list of delivery ids), $lease (this claim's token)
// returns: locked (count)
UNWIND $ids AS id
MATCH (x:Delivery {delivery_id: id})
SET x.lock_token = $lease
RETURN count(x) AS locked
