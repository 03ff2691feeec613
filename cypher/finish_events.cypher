// Counts suppressed duplicates on each event, and connects each event the batch stored
// to the profile that performed it and its datasource.
// params: $events (list of {event_id, dups, dup_sources, performer (or null), source_id})
// returns: events (count)
UNWIND $events AS row
MATCH (e:Event {event_id: row.event_id})
SET e.duplicates = CASE WHEN row.dups > 0 THEN coalesce(e.duplicates, 0) + row.dups
                        ELSE e.duplicates END,
    e.duplicate_sources = CASE WHEN row.dups > 0
                               THEN coalesce(e.duplicate_sources, []) + row.dup_sources
                               ELSE e.duplicate_sources END
WITH e, row
CALL (e, row) {
  WITH e, row WHERE row.performer IS NOT NULL
  MATCH (p:Profile {profile_id: row.performer}), (d:Datasource {source_id: row.source_id})
  CREATE (p)-[:PERFORMED]->(e), (e)-[:FROM]->(d)
}
RETURN count(e) AS events
