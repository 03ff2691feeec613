// Connects a newly stored event to the profile that performed it and its datasource.
// params: $event_id, $profile_id, $source_id
// returns: event_id
MATCH (e:Event {event_id: $event_id}), (p:Profile {profile_id: $profile_id}),
      (d:Datasource {source_id: $source_id})
CREATE (p)-[:PERFORMED]->(e), (e)-[:FROM]->(d)
RETURN e.event_id AS event_id
