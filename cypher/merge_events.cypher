// Stores each new event of a batch once per event_id across all datasources (MERGE
// under the unique constraint, in event_id order: first write wins) and reports, for
// each id, whether this batch created it and who performed the original.
// params: $events (list of {event_id, fields: {event_name, method, timestamp,
//         received_at, source_id, properties_json}, props: map of `prop.<key>` scalars},
//         sorted by event_id; for an id sent twice, the first write's)
// returns: event_id, created, link_blocked, performer ({profile_id, cluster_id, created_at} or null)
UNWIND $events AS ev
MERGE (e:Event {event_id: ev.event_id})
  ON CREATE SET e += ev.fields, e += ev.props, e.batch_new = true
WITH ev, e, coalesce(e.batch_new, false) AS created
REMOVE e.batch_new
WITH ev, e, created
OPTIONAL MATCH (q:Profile)-[:PERFORMED]->(e)
RETURN ev.event_id AS event_id, created, coalesce(e.link_blocked, false) AS link_blocked,
       CASE WHEN q IS NULL THEN null
            ELSE {profile_id: q.profile_id, cluster_id: q.cluster_id, created_at: q.created_at}
       END AS performer
