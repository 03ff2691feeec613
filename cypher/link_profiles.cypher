// Records SAME_AS edges: each says two profiles are one person, with its evidence.
// params: $links (list of {from, to, via: [urn], reason, event_id, note?, created_at?}),
//         $now (datetime: when a link has no created_at of its own)
// returns: linked (count)
UNWIND $links AS link
MATCH (p:Profile {profile_id: link.from}), (q:Profile {profile_id: link.to})
CREATE (p)-[s:SAME_AS {via: link.via, reason: link.reason, event_id: link.event_id,
                       note: link.note, created_at: coalesce(link.created_at, $now)}]->(q)
RETURN count(s) AS linked
