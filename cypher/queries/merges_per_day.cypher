// Merges per day (UTC): SAME_AS links created today and the $days days before it, by reason, with the alias types used as evidence.
// params: $days (int, default 7) — how many days before today to include
// returns: day, reason, merges, evidence_types
WITH datetime.truncate('day', datetime.realtime('UTC')) - duration({days: $days}) AS since
MATCH (:Profile)-[r:SAME_AS]->(:Profile)
WHERE r.created_at >= since
WITH date(r.created_at) AS day, r.reason AS reason, r
UNWIND CASE WHEN size(r.via) = 0 THEN [null] ELSE r.via END AS urn
WITH day, reason, count(DISTINCT r) AS merges, collect(DISTINCT split(urn, ':')[1]) AS types
RETURN day, reason, merges, [t IN types WHERE t IS NOT NULL] AS evidence_types
ORDER BY day DESC, reason
