// Gives a web datasource a new signing secret (docs/security.md#rotating-the-signing-secret).
// The secret it replaces keeps signing until $previous_until, while the shop's servers
// switch over; a null $previous_until (no grace) forgets it at once. Only one earlier
// secret is kept: rotating during a grace window ends the older secret's at once.
// params: $source_id, $secret (the new secret), $previous_until (datetime or null), $now
// returns: source_id, name, previous_signing_secret_until (null when the replaced secret
//          stopped signing at once, or there was none); no row when $source_id names no
//          web datasource
MATCH (d:Datasource {source_id: $source_id, kind: 'web'})
WITH d, d.signing_secret AS replaced
SET d.previous_signing_secret = CASE WHEN $previous_until IS NULL THEN null ELSE replaced END,
    d.previous_signing_secret_until = CASE WHEN $previous_until IS NULL OR replaced IS NULL
                                           THEN null ELSE $previous_until END,
    d.signing_secret = $secret, d.signing_secret_rotated_at = $now
RETURN d.source_id AS source_id, d.name AS name,
       d.previous_signing_secret_until AS previous_signing_secret_until
