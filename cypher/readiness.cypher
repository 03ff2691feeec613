// Readiness: the names of the constraints and indexes that exist, to check the schema.
// params: none
// returns: name
SHOW CONSTRAINTS YIELD name
RETURN name
