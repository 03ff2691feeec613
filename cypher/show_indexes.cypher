// The names of every index (readiness checks that the schema's indexes exist).
// params: none
// returns: name
SHOW INDEXES YIELD name RETURN name
