// The cluster holding an alias (the urn is normalised by the caller first). Verified:
// only a holder whose attachment is vouched (trusted or signed, or missing trust from
// before the trust model) or a browser's own cookie counts (docs/security.md#verified-reads).
// params: $urn, $verified (boolean), $device_types (the policy's device alias types)
// returns: cluster_id, profile_id (at most one row; every holder of an alias is in one
//          cluster unless merge protection kept them apart, then the oldest holder's — for
//          a device, whose holders differ after it changed hands, its last user's:
//          docs/identity.md#device-hand-over)
MATCH (a:Alias {urn: $urn})<-[r:HAS_ALIAS]-(p:Profile)
WHERE NOT $verified OR a.type = 'cookie' OR coalesce(r.trust, 'trusted') <> 'claim'
RETURN p.cluster_id AS cluster_id, p.profile_id AS profile_id
ORDER BY CASE WHEN a.type IN $device_types
              THEN coalesce(r.last_seen, datetime({epochSeconds: 0})) END DESC,
         p.created_at
LIMIT 1
