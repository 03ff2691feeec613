// Every SAME_AS edge as a pair of profile ids, streamed for `converge-graph verify`.
// params: none
// returns: from, to
MATCH (p:Profile)-[:SAME_AS]->(q:Profile)
RETURN p.profile_id AS from, q.profile_id AS to
