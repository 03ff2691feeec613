// Creates a datasource; only the SHA-256 of its token is stored, never the token.
// params: $source_id, $name, $kind ('web' | 'webhook'), $token_hash, $now (datetime),
//         $origins (list of 'scheme://host[:port]' a web source's pages may call from;
//         null when none are listed: any origin; docs/api.md, POST /v1/collect)
// returns: source_id, name, kind, created_at, origins (a list, empty when none)
CREATE (d:Datasource {source_id: $source_id, name: $name, kind: $kind,
                      token_hash: $token_hash, created_at: $now, origins: $origins})
RETURN d.source_id AS source_id, d.name AS name, d.kind AS kind, d.created_at AS created_at,
       coalesce(d.origins, []) AS origins
