// Stores an API key by the SHA-256 of its secret, with its scope.
// params: $key_hash, $scope ('read' | 'admin'), $name, $now (datetime)
// returns: scope
CREATE (k:ApiKey {key_hash: $key_hash, scope: $scope, name: $name, created_at: $now})
RETURN k.scope AS scope
