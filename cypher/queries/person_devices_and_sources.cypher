// Devices and datasources a person spans: one row per profile (a browser, a server-side identity) and datasource it sent events from.
// A profile without events appears once with datasource null.
// params: $urn (string) — an alias URN exactly as stored, e.g. urn:email:john.smith@apple.com
// returns: cluster_id, profile_id, cookies, datasource, datasource_kind, events, first_seen, last_seen
MATCH (:Alias {urn: $urn})<-[:HAS_ALIAS]-(holder:Profile)
WITH DISTINCT holder.cluster_id AS cluster_id
MATCH (p:Profile {cluster_id: cluster_id})
OPTIONAL MATCH (p)-[:PERFORMED]->(e:Event)-[:FROM]->(d:Datasource)
WITH cluster_id, p, d, count(e) AS events, min(e.timestamp) AS first_seen, max(e.timestamp) AS last_seen
RETURN cluster_id,
       p.profile_id AS profile_id,
       COLLECT { MATCH (p)-[:HAS_ALIAS]->(c:Alias {type: 'cookie'}) RETURN c.value ORDER BY c.value } AS cookies,
       d.name AS datasource,
       d.kind AS datasource_kind,
       events,
       first_seen,
       last_seen
ORDER BY first_seen, profile_id, datasource
