// The API key whose secret hashes to $key_hash.
// params: $key_hash
// returns: key_hash, scope
MATCH (k:ApiKey {key_hash: $key_hash})
RETURN k.key_hash AS key_hash, k.scope AS scope
