// Creates a datasource; only the SHA-256 of its token is stored, never the token.
// params: $source_id, $name, $kind ('web' | 'webhook'), $token_hash, $now (datetime)
// returns: source_id, name, kind, created_at
CREATE (d:Datasource {source_id: $source_id, name: $name, kind: $kind,
                      token_hash: $token_hash, created_at: $now})
RETURN d.source_id AS source_id, d.name AS name, d.kind AS kind, d.created_at AS created_at
