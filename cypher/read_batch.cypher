// The first half of every write (a batch of one or many), in one round trip:
// 1. creates the batch's aliases (MERGE on the unique urn) and write-locks each, in urn
//    order, so that writes sharing an alias run one after the other; reads who holds each
//    (holders cannot change while the lock is held);
// 2. stores each new event once per event_id across all datasources (MERGE under the
//    unique constraint, in event_id order: first write wins) and reports whether this
//    batch created it and who performed the original.
// params: $now (ISO-8601 string: the write path sends its times as text, read back with
//         datetime(); see src/converge_graph/store/values.py), $d: a map of the two lists (one parameter, so that Neo4j plans
//         this once: a list parameter's length is part of its plan cache key):
//         d.aliases (list of {urn, type, value}, sorted by urn),
//         d.events (list of {event_id, timestamp, received_at (ISO-8601 strings), fields:
//         {event_name, method, source_id, properties_json, trust}, props: map of
//         `prop.<key>` scalars}, sorted
//         by event_id; for an id sent twice, the first write's; trust 'trusted' | 'claim')
// returns: aliases (list of {urn, quarantined, link_blocked, holders: [{profile_id,
//          cluster_id, created_at, trust, last_seen}], session (a device's current session:
//          its anonymous events' ids, oldest first, docs/identity.md#session-stitching),
//          session_last, used_before_session (whether the device was used before that
//          session: docs/identity.md#a-known-persons-first-login; false when never
//          written), performers (of those events: [{event_id, profile_id, cluster_id,
//          created_at}]), handed (the holders of the tokens a device last handed on, its
//          handed_on, quarantined or unmerged tokens left out: [{urn, profile_id,
//          cluster_id, created_at, trust, last_seen}], docs/identity.md#shared-devices)}),
//          events (list of {event_id, created,
//          link_blocked, trust, shared_links, source_id, performer: {profile_id, cluster_id,
//          created_at} or null}); times as ISO-8601 strings; forwarding (whether any
//          destination is enabled: the outbox statement is skipped when none is); a trust missing from older data reads as 'trusted'
//          (docs/security.md#the-trust-model)
CALL () {
  UNWIND $d.aliases AS row
  MERGE (a:Alias {urn: row.urn})
    ON CREATE SET a.type = row.type, a.value = row.value, a.created_at = datetime($now)
  SET a.last_seen = datetime($now)
  RETURN collect({
    urn: a.urn, quarantined: coalesce(a.quarantined, false),
    link_blocked: coalesce(a.link_blocked, false),
    holders: [(p:Profile)-[r:HAS_ALIAS]->(a) |
      {profile_id: p.profile_id, cluster_id: p.cluster_id,
       created_at: toString(p.created_at), trust: coalesce(r.trust, 'trusted'),
       last_seen: toString(r.last_seen)}],
    session: coalesce(a.session, []), session_last: toString(a.session_last),
    used_before_session: coalesce(a.used_before_session, false),
    performers: COLLECT {
      UNWIND coalesce(a.session, []) AS eid
      MATCH (q:Profile)-[:PERFORMED]->(:Event {event_id: eid})
      RETURN {event_id: eid, profile_id: q.profile_id, cluster_id: q.cluster_id,
              created_at: toString(q.created_at)}
    },
    handed: COLLECT {
      UNWIND coalesce(a.handed_on, []) AS turn
      MATCH (q:Profile)-[r:HAS_ALIAS]->(t:Alias {urn: turn})
      WHERE NOT coalesce(t.quarantined, false) AND NOT coalesce(t.link_blocked, false)
      RETURN {urn: turn, profile_id: q.profile_id, cluster_id: q.cluster_id,
              created_at: toString(q.created_at), trust: coalesce(r.trust, 'trusted'),
              last_seen: toString(r.last_seen)}
    }
  }) AS aliases
}
CALL () {
  UNWIND $d.events AS ev
  MERGE (e:Event {event_id: ev.event_id})
    ON CREATE SET e += ev.fields, e += ev.props, e.timestamp = datetime(ev.timestamp),
                  e.received_at = datetime(ev.received_at), e.batch_new = true
  WITH ev, e, coalesce(e.batch_new, false) AS created
  REMOVE e.batch_new
  WITH ev, e, created
  OPTIONAL MATCH (q:Profile)-[:PERFORMED]->(e)
  RETURN collect({
    event_id: ev.event_id, created: created, link_blocked: coalesce(e.link_blocked, false),
    trust: coalesce(e.trust, 'trusted'), shared_links: coalesce(e.shared_links, 0),
    source_id: e.source_id,
    performer: CASE WHEN q IS NULL THEN null
                    ELSE {profile_id: q.profile_id, cluster_id: q.cluster_id,
                          created_at: toString(q.created_at)} END
  }) AS events
}
RETURN aliases, events, EXISTS { MATCH (d:Destination) WHERE d.enabled } AS forwarding
