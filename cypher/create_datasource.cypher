// Creates a datasource; only the SHA-256 of its token is stored, never the token. A web
// source also keeps its signing secret itself (HMAC verification needs it; it is never
// returned by any read but find_datasource, which authentication uses) and the strong
// alias types it accepts unsigned, as claims (docs/security.md#signing-strong-ids-from-the-browser).
// params: $source_id, $name, $kind ('web' | 'webhook'), $token_hash, $now (datetime),
//         $origins (list of 'scheme://host[:port]' a web source's pages may call from;
//         null when none are listed: any origin; docs/api.md, POST /v1/collect),
//         $signing_secret (string or null), $accept_unsigned (list of alias types or null)
// returns: source_id, name, kind, created_at, origins (a list, empty when none),
//          accept_unsigned (a list, empty when none)
CREATE (d:Datasource {source_id: $source_id, name: $name, kind: $kind,
                      token_hash: $token_hash, created_at: $now, origins: $origins,
                      signing_secret: $signing_secret, accept_unsigned: $accept_unsigned})
RETURN d.source_id AS source_id, d.name AS name, d.kind AS kind, d.created_at AS created_at,
       coalesce(d.origins, []) AS origins, coalesce(d.accept_unsigned, []) AS accept_unsigned
