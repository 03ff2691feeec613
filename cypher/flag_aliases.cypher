// Marks aliases as quarantined (a hub held by too many profiles) so they link nothing more.
// params: $urns (list), $now (datetime)
// returns: flagged (count)
UNWIND $urns AS urn
MATCH (a:Alias {urn: urn})
SET a.quarantined = true, a.quarantined_at = $now
RETURN count(a) AS flagged
