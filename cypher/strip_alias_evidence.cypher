// Unmerge by alias: the alias stops linking (link_blocked, so replays do not merge
// again) and is removed from the evidence of every SAME_AS edge in the given clusters;
// an edge left with no evidence is deleted.
// params: $urn, $cluster_ids (list), $now (datetime)
// returns: removed (edges deleted), stripped (edges that lost this evidence)
MERGE (a:Alias {urn: $urn})
  ON CREATE SET a.type = split($urn, ':')[1], a.value = substring($urn, size(split($urn, ':')[1]) + 5),
                a.created_at = $now
SET a.link_blocked = true, a.link_blocked_at = $now
WITH a
CALL (a) {
  UNWIND $cluster_ids AS cid
  MATCH (p:Profile {cluster_id: cid})-[s:SAME_AS]->(:Profile)
  WHERE $urn IN s.via
  SET s.via = [u IN s.via WHERE u <> $urn]
  WITH s, CASE WHEN size(s.via) = 0 AND s.reason = 'shared_alias' THEN 1 ELSE 0 END AS gone
  FOREACH (_ IN CASE WHEN gone = 1 THEN [1] ELSE [] END | DELETE s)
  RETURN sum(gone) AS removed, count(*) AS stripped
}
RETURN removed, stripped
