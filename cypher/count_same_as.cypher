// How many SAME_AS links the graph holds (answered from Neo4j's count store, no scan).
// params: none
// returns: links
MATCH ()-[r:SAME_AS]->()
RETURN count(r) AS links
