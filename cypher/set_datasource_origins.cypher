// Replaces the origins a web datasource's pages may call /v1/collect from.
// params: $source_id, $origins (list of 'scheme://host[:port]'; null removes the property:
//         any origin)
// returns: source_id, name, kind, origins (a list, empty when none; no row when
//          $source_id is unknown)
MATCH (d:Datasource {source_id: $source_id})
SET d.origins = $origins
RETURN d.source_id AS source_id, d.name AS name, d.kind AS kind,
       coalesce(d.origins, []) AS origins
