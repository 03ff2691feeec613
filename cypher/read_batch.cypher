// The first half of every write (a batch of one or many), in one round trip:
// 1. creates the batch's aliases (MERGE on the unique urn) and write-locks each, in urn
//    order, so that writes sharing an alias run one after the other; reads who holds each
//    (holders cannot change while the lock is held);
// 2. stores each new event once per event_id across all datasources (MERGE under the
//    unique constraint, in event_id order: first write wins) and reports whether this
//    batch created it and who performed the original;
// 3. write-locks the clusters of every profile read in 1 and 2 (in cluster_id order:
//    the lock protocol's last step, docs/identity.md#the-write-algorithm) and reads
//    under those locks what lock_clusters.cypher reads: each profile's cluster again
//    (a concurrent merge may have moved it before the lock: the caller then locks the
//    rest with lock_clusters.cypher), the clusters, the aliases each holds (except unlimited
//    types) and whether vouched evidence established it, and (if asked) the profiles'
//    stored properties. This saves a round trip on every write that touches a cluster.
// params: $now (ISO-8601 string: the write path sends its times as text, read back with
//         datetime(); see src/converge_graph/store/values.py), $d: a map of the two lists (one parameter, so that Neo4j plans
//         this once: a list parameter's length is part of its plan cache key):
//         d.aliases (list of {urn, type, value}, sorted by urn),
//         d.events (list of {event_id, timestamp, received_at (ISO-8601 strings), fields:
//         {event_name, method, source_id, properties_json, trust}, props: map of
//         `prop.<key>` scalars}, sorted
//         by event_id; for an id sent twice, the first write's; trust 'trusted' | 'claim'),
//         d.unlimited (alias types to leave out of a cluster's aliases), d.state (whether
//         to read the profiles' stored properties)
// returns: aliases (list of {urn, quarantined, link_blocked, holders: [{profile_id,
//          cluster_id, created_at, trust, last_seen}], session (a device's current session:
//          its anonymous events' ids, oldest first, docs/identity.md#session-stitching),
//          session_last, performers (of those events: [{event_id, profile_id, cluster_id,
//          created_at}]), handed (the holders of the tokens a device last handed on, its
//          handed_on, quarantined or unmerged tokens left out: [{urn, profile_id,
//          cluster_id, created_at, trust, last_seen}], docs/identity.md#shared-devices)}),
//          events (list of {event_id, created,
//          link_blocked, trust, shared_links, source_id, performer: {profile_id, cluster_id,
//          created_at} or null}); times as ISO-8601 strings; forwarding (whether any
//          destination is enabled: the outbox statement is skipped when none is); a trust missing from older data reads as 'trusted'
//          (docs/security.md#the-trust-model); locked: {clusters, members, urns, states}
//          as lock_clusters.cypher returns them, for every profile above (the holders of
//          handed-on tokens included, whether or not they count)
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
// known: the profiles met, as one list per alias and one for the events (a list of
// lists, flattened by UNWIND: concatenating them one by one copied the growing list)
WITH aliases, events,
     [a IN aliases | a.holders + a.performers + a.handed]
       + [[e IN events WHERE e.performer IS NOT NULL | e.performer]] AS known
CALL (known) {
  UNWIND known AS some
  UNWIND some AS k
  WITH DISTINCT k.cluster_id AS cid ORDER BY cid
  WITH collect(cid) AS cids
  CALL (cids) {
    UNWIND cids AS cid
    MATCH (c:Cluster {cluster_id: cid})
    SET c.touched_at = datetime($now)
    RETURN collect(c {.cluster_id, .size, created_at: toString(c.created_at), .merged_into})
      AS clusters
  }
  CALL (known) {
    UNWIND known AS some
    UNWIND some AS k
    WITH DISTINCT k.profile_id AS pid
    MATCH (p:Profile {profile_id: pid})
    RETURN collect(p {.profile_id, .cluster_id}) AS members,
           collect(CASE WHEN $d.state
                        THEN p {.profile_id, .properties_json, .property_ts_json} END)
             AS states
  }
  CALL (cids) {
    UNWIND cids AS cid
    CALL (cid) {
      OPTIONAL MATCH (p:Profile {cluster_id: cid})-[r:HAS_ALIAS]->(a:Alias)
      RETURN collect(DISTINCT CASE WHEN NOT a.type IN $d.unlimited THEN a.urn END) AS held,
             count(CASE WHEN r IS NOT NULL AND coalesce(r.trust, 'trusted') <> 'claim'
                        THEN 1 END) > 0
               AS established
    }
    RETURN collect({cluster_id: cid, urns: held, established: established}) AS urns
  }
  RETURN {clusters: clusters, members: members, urns: urns, states: states} AS locked
}
RETURN aliases, events, locked, EXISTS { MATCH (d:Destination) WHERE d.enabled } AS forwarding
