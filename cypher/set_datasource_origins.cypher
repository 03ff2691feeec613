// Replaces the origins a web datasource's pages may call /v1/collect from.
// params: $source_id, $origins (list of 'scheme://host[:port]'; empty: any origin)
// returns: source_id, name, kind, origins (no row when $source_id is unknown)
MATCH (d:Datasource {source_id: $source_id})
SET d.origins = $origins
RETURN d.source_id AS source_id, d.name AS name, d.kind AS kind, d.origins AS origins
