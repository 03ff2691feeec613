// Browser graph view of the person holding an alias: the cluster's profiles, their aliases and SAME_AS links, as paths.
// params: $urn (string) — an alias URN exactly as stored, e.g. urn:email:john.smith@apple.com
// returns: profile, aliases, links
MATCH (:Alias {urn: $urn})<-[:HAS_ALIAS]-(holder:Profile)
WITH DISTINCT holder.cluster_id AS cluster_id
MATCH (profile:Profile {cluster_id: cluster_id})
RETURN profile,
       COLLECT { MATCH path = (profile)-[:HAS_ALIAS]->(:Alias) RETURN path } AS aliases,
       COLLECT { MATCH path = (profile)-[:SAME_AS]->(:Profile) RETURN path } AS links
