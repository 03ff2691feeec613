// Browser graph view of one cluster: its profiles, their aliases and the SAME_AS links between them, as paths.
// Run it in Neo4j Browser (graph view); from the CLI each row is one profile.
// params: $cluster_id (string) — a cluster id as returned by cluster_by_alias or the API
// returns: profile, aliases, links
MATCH (profile:Profile {cluster_id: $cluster_id})
RETURN profile,
       COLLECT { MATCH path = (profile)-[:HAS_ALIAS]->(:Alias) RETURN path } AS aliases,
       COLLECT { MATCH path = (profile)-[:SAME_AS]->(:Profile) RETURN path } AS links
