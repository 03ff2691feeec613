// Events per datasource per day (UTC, by event timestamp), today and the $days days before it, newest day first.
// `duplicates` sums the suppressed copies of those events.
// params: $days (int, default 7) — how many days before today to include
// returns: day, source_id, datasource, kind, events, profiles, duplicates
WITH datetime.truncate('day', datetime.realtime('UTC')) - duration({days: $days}) AS since
MATCH (e:Event)
WHERE e.timestamp >= since
MATCH (p:Profile)-[:PERFORMED]->(e)-[:FROM]->(d:Datasource)
RETURN date(e.timestamp) AS day,
       d.source_id AS source_id,
       d.name AS datasource,
       d.kind AS kind,
       count(e) AS events,
       count(DISTINCT p) AS profiles,
       sum(coalesce(e.duplicates, 0)) AS duplicates
ORDER BY day DESC, datasource
