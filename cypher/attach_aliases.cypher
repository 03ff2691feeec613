// Attaches the write's aliases to its profile; first_seen/last_seen are event times.
// params: $profile_id, $urns (list), $ts (datetime: the event's timestamp)
// returns: attached (count)
MATCH (p:Profile {profile_id: $profile_id})
UNWIND $urns AS urn
MATCH (a:Alias {urn: urn})
MERGE (p)-[r:HAS_ALIAS]->(a)
  ON CREATE SET r.first_seen = $ts
SET r.last_seen = CASE WHEN r.last_seen IS NULL OR r.last_seen < $ts THEN $ts ELSE r.last_seen END,
    r.first_seen = CASE WHEN r.first_seen > $ts THEN $ts ELSE r.first_seen END
RETURN count(r) AS attached
