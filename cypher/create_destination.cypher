// Creates a destination: where enriched events and identity changes are sent
// (docs/destinations.md). Its signing secret is stored as it is: signing needs it.
// params: $destination_id, $name, $url, $events (list or null: all), $methods (list or
//   null: all), $format ('webhook' | 'meta-capi'), $identity_events (bool),
//   $purpose ('marketing' | 'analytics'), $secret ('whsec_…'), $now (datetime)
// returns: destination (map, without the secret)
CREATE (d:Destination {destination_id: $destination_id, name: $name, url: $url,
                       events: $events, methods: $methods, format: $format,
                       identity_events: $identity_events, purpose: $purpose,
                       secret: $secret, enabled: true, created_at: $now})
RETURN d {.destination_id, .name, .url, .events, .methods, .format, .identity_events,
          .purpose, .enabled, .created_at} AS destination
