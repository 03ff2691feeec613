// The datasource whose token hashes to $token_hash (an index seek on token_hash), with
// what verifying a browser's signed aliases needs: the signing secret, and the one a
// rotation replaced with the end of its grace window (the caller compares it with the
// time of each write; docs/security.md#rotating-the-signing-secret).
// params: $token_hash
// returns: source_id, name, kind, token_hash, origins (an empty list when never set),
//          signing_secret, previous_signing_secret, previous_signing_secret_until,
//          accept_unsigned
MATCH (d:Datasource {token_hash: $token_hash})
RETURN d.source_id AS source_id, d.name AS name, d.kind AS kind, d.token_hash AS token_hash,
       coalesce(d.origins, []) AS origins, d.signing_secret AS signing_secret,
       d.previous_signing_secret AS previous_signing_secret,
       d.previous_signing_secret_until AS previous_signing_secret_until,
       coalesce(d.accept_unsigned, []) AS accept_unsigned
