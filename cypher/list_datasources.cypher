// All datasources, oldest first, with how many events each has sent.
// params: none
// returns: source_id, name, kind, created_at, origins, events
MATCH (d:Datasource)
RETURN d.source_id AS source_id, d.name AS name, d.kind AS kind, d.created_at AS created_at,
       coalesce(d.origins, []) AS origins, count { (d)<-[:FROM]-(:Event) } AS events
ORDER BY d.created_at
