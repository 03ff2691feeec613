// Duplicate events suppressed per datasource: copies of an already stored event_id that each datasource sent.
// `suppressed` counts the copies (one per entry in Event.duplicate_sources), `events` the distinct events they
// repeated, `from_other_sources` those first stored from another datasource (e.g. the browser and the server
// reporting one order), `stored` the events this datasource stored first.
// params: none
// returns: source_id, name, kind, stored, suppressed, events, from_other_sources
CALL () {
  MATCH (e:Event)
  WHERE e.duplicates > 0
  OPTIONAL MATCH (e)-[:FROM]->(origin:Datasource)
  UNWIND coalesce(e.duplicate_sources, []) AS sender
  RETURN sender,
         count(*) AS suppressed,
         count(DISTINCT e) AS events,
         count(DISTINCT CASE WHEN origin.source_id <> sender THEN e END) AS from_other_sources
}
WITH collect({sender: sender, suppressed: suppressed, events: events,
              from_other_sources: from_other_sources}) AS senders
MATCH (d:Datasource)
WITH d, [s IN senders WHERE s.sender = d.source_id][0] AS sent
RETURN d.source_id AS source_id,
       d.name AS name,
       d.kind AS kind,
       COUNT { (d)<-[:FROM]-() } AS stored,
       coalesce(sent.suppressed, 0) AS suppressed,
       coalesce(sent.events, 0) AS events,
       coalesce(sent.from_other_sources, 0) AS from_other_sources
ORDER BY suppressed DESC, name
