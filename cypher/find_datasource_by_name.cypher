// The datasources called $name, oldest first (names may repeat; a source_id also matches).
// params: $name (a datasource's name, or its source_id to pick one of several namesakes)
// returns: source_id, name, kind, created_at, origins (an empty list when never set)
MATCH (d:Datasource)
WHERE d.name = $name OR d.source_id = $name
RETURN d.source_id AS source_id, d.name AS name, d.kind AS kind, d.created_at AS created_at,
       coalesce(d.origins, []) AS origins
ORDER BY d.created_at
