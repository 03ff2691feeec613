// The datasources called $name, oldest first (names may repeat; a source_id also matches).
// Never a secret: only whether a web source has a signing secret, when it was last
// rotated and until when the one it replaced still signs.
// params: $name (a datasource's name, or its source_id to pick one of several namesakes)
// returns: source_id, name, kind, created_at, origins (an empty list when never set),
//          has_signing_secret, signing_secret_rotated_at (null: never rotated),
//          previous_signing_secret_until (null: none kept)
MATCH (d:Datasource)
WHERE d.name = $name OR d.source_id = $name
RETURN d.source_id AS source_id, d.name AS name, d.kind AS kind, d.created_at AS created_at,
       coalesce(d.origins, []) AS origins, d.signing_secret IS NOT NULL AS has_signing_secret,
       d.signing_secret_rotated_at AS signing_secret_rotated_at,
       d.previous_signing_secret_until AS previous_signing_secret_until
ORDER BY d.created_at
