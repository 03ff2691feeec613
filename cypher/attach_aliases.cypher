// Attaches aliases to profiles; first_seen/last_seen are event times, widened when an
// edge already exists.
// params: $attachments (list of {profile_id, urn, first, last})
// returns: attached (count)
UNWIND $attachments AS row
MATCH (p:Profile {profile_id: row.profile_id}), (a:Alias {urn: row.urn})
MERGE (p)-[r:HAS_ALIAS]->(a)
  ON CREATE SET r.first_seen = row.first, r.last_seen = row.last
SET r.first_seen = CASE WHEN row.first < r.first_seen THEN row.first ELSE r.first_seen END,
    r.last_seen = CASE WHEN row.last > r.last_seen THEN row.last ELSE r.last_seen END
RETURN count(r) AS attached
