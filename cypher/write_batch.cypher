// The second half of every write (a batch of one or many), in one round trip: what the
// in-memory replay (batch.py) decided, written with one UNWIND per kind of change.
// Property keys from users travel as map keys in node_props (never as query text), so a
// key such as "a`}) DETACH DELETE n //" is stored verbatim.
// Times travel as ISO-8601 strings and are stored with datetime() (the driver's own
// packing of temporals cost more than half the write path's CPU: benchmarks/README.md).
// params: $now (ISO-8601 string), $d: one map holding every list below (d.profiles, …), so that
//   Neo4j plans this statement once: a list parameter's emptiness and length are part of
//   its plan cache key, and each new combination would be planned again (seconds)
//   profiles    [{profile_id, cluster_id, created_at}]          new profiles, final cluster
//   clusters    [{cluster_id, size, created_at, merged_into, merged_at}]  sizes; merged ids
//   relabels    [{from, to}]                  existing profiles of merged-away clusters
//   links       [{from, to, via, reason, event_id, created_at, trust}]  SAME_AS, evidence
//   attachments [{profile_id, urn, first, last, trust}]   HAS_ALIAS, event times, trust
//                 (trust: 'trusted' | 'signed' | 'claim', docs/security.md#the-trust-model)
//   properties  [{profile_id, node_props, properties_json, property_ts_json}]
//   events      [{event_id, dups, dup_sources, performer, source_id, shared_links,
//                  replace}]  replace: a trusted write's full event properties taking
//                  over an event a browser stored first (its performer and source too)
//   sessions    [{urn, events, last}]  a device's current session: its anonymous events'
//                 ids and the time of its last write (docs/identity.md#session-stitching)
//   moves       [{event_id, to}]  stored events a login's session stitching gave to
//                 another profile: their PERFORMED edge moves there
//   handoffs    [{urn, tokens}]  the tokens a device last handed on (its handed_on,
//                 docs/identity.md#shared-devices)
//   quarantined [urn]                          aliases that just became hubs
//   conflicts   [{conflict_id, kind, alias, reason, event_id, source_id, profile_id,
//                  other_profile_id, created_at}]  refused merges, quarantines and device
//                 hand-overs (other_profile_id: the side kept apart, or null), for review
// returns: written (true)
CALL () {
  UNWIND $d.profiles AS row
  CREATE (:Profile {profile_id: row.profile_id, cluster_id: row.cluster_id,
                    created_at: datetime(row.created_at),
                    updated_at: datetime(row.created_at)})
}
CALL () {
  UNWIND $d.clusters AS row
  MERGE (c:Cluster {cluster_id: row.cluster_id})
    ON CREATE SET c.created_at = datetime(row.created_at)
  SET c.size = row.size, c.merged_into = row.merged_into,
      c.merged_at = datetime(row.merged_at), c.touched_at = datetime($now)
}
CALL () {
  UNWIND $d.relabels AS row
  MATCH (p:Profile {cluster_id: row.from})
  SET p.cluster_id = row.to
}
CALL () {
  UNWIND $d.links AS link
  MATCH (p:Profile {profile_id: link.from}), (q:Profile {profile_id: link.to})
  CREATE (p)-[:SAME_AS {via: link.via, reason: link.reason, event_id: link.event_id,
                        created_at: datetime(link.created_at), trust: link.trust}]->(q)
}
CALL () {
  UNWIND $d.attachments AS row
  MATCH (p:Profile {profile_id: row.profile_id}), (a:Alias {urn: row.urn})
  WITH p, a, row, datetime(row.first) AS first, datetime(row.last) AS last
  MERGE (p)-[r:HAS_ALIAS]->(a)
    ON CREATE SET r.first_seen = first, r.last_seen = last
  SET r.trust = row.trust,
      r.first_seen = CASE WHEN first < r.first_seen THEN first ELSE r.first_seen END,
      r.last_seen = CASE WHEN last > r.last_seen THEN last ELSE r.last_seen END
}
CALL () {
  UNWIND $d.properties AS row
  MATCH (p:Profile {profile_id: row.profile_id})
  SET p += row.node_props, p.properties_json = row.properties_json,
      p.property_ts_json = row.property_ts_json, p.updated_at = datetime($now)
}
CALL () {
  UNWIND $d.events AS row
  WITH row WHERE row.replace IS NOT NULL
  MATCH (e:Event {event_id: row.event_id})
  OPTIONAL MATCH (e)<-[r:PERFORMED]-()
  DELETE r
  WITH DISTINCT e, row
  OPTIONAL MATCH (e)-[f:FROM]->()
  DELETE f
  WITH DISTINCT e, row, e {.duplicates, .duplicate_sources, .link_blocked} AS kept
  SET e = row.replace
  SET e += kept, e.timestamp = datetime(row.replace.timestamp),
      e.received_at = datetime(row.replace.received_at)
}
CALL () {
  UNWIND $d.events AS row
  MATCH (e:Event {event_id: row.event_id})
  SET e.shared_links = CASE WHEN row.shared_links > 0 THEN row.shared_links
                            ELSE e.shared_links END,
      e.duplicates = CASE WHEN row.dups > 0 THEN coalesce(e.duplicates, 0) + row.dups
                          ELSE e.duplicates END,
      e.duplicate_sources = CASE WHEN row.dups > 0
                                 THEN coalesce(e.duplicate_sources, []) + row.dup_sources
                                 ELSE e.duplicate_sources END
  WITH e, row WHERE row.performer IS NOT NULL
  MATCH (p:Profile {profile_id: row.performer}), (d:Datasource {source_id: row.source_id})
  CREATE (p)-[:PERFORMED]->(e), (e)-[:FROM]->(d)
}
CALL () {
  UNWIND $d.sessions AS row
  MATCH (a:Alias {urn: row.urn})
  SET a.session = CASE WHEN size(row.events) > 0 THEN row.events END,
      a.session_last = datetime(row.last)
}
CALL () {
  UNWIND $d.handoffs AS row
  MATCH (a:Alias {urn: row.urn})
  SET a.handed_on = row.tokens
}
CALL () {
  UNWIND $d.moves AS row
  MATCH (e:Event {event_id: row.event_id}), (p:Profile {profile_id: row.to})
  OPTIONAL MATCH (e)<-[r:PERFORMED]-()
  DELETE r
  WITH DISTINCT e, p
  CREATE (p)-[:PERFORMED]->(e)
}
CALL () {
  UNWIND $d.quarantined AS urn
  MATCH (a:Alias {urn: urn})
  SET a.quarantined = true, a.quarantined_at = datetime($now)
}
CALL () {
  UNWIND $d.conflicts AS c
  CREATE (:Conflict {conflict_id: c.conflict_id, kind: c.kind, alias: c.alias,
                     reason: c.reason, event_id: c.event_id, source_id: c.source_id,
                     profile_id: c.profile_id, other_profile_id: c.other_profile_id,
                     created_at: datetime(c.created_at)})
}
RETURN true AS written
