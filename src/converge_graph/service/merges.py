"""Explain, undo and erase merges. Every SAME_AS edge records its evidence, so:

* unmerge by alias or event removes that evidence, blocks it from linking again, and
  splits each affected cluster into its true components under fresh cluster_ids —
  the clusters a run that never received the evidence would have;
* a manual link joins two clusters with `reason: manual`;
* erasure deletes a person: profiles, events, the aliases nobody else holds, and the
  deliveries not yet made about them;
* each change is recorded for the destinations that take identity events
  (``identity.split``, ``identity.merged``, ``identity.erased``) in its own transaction;
* explain walks the SAME_AS edges of one cluster (bounded by its cluster_id) from one
  profile to another and returns each step's evidence.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from converge_graph.core.ids import new_id
from converge_graph.core.resolver import Holder
from converge_graph.core.verify import components
from converge_graph.errors import InvalidInput, NotFound
from converge_graph.service import Service, outbox, utcnow
from converge_graph.store.graph import Tx
from converge_graph.store.locks import lock_holders
from converge_graph.store.queries import Q


class Merges:
    def __init__(self, service: Service) -> None:
        self.service = service
        self.graph = service.graph

    # -- unmerge ----------------------------------------------------------------------
    def unmerge(self, alias: str | None = None, event_id: str | None = None) -> dict[str, Any]:
        if (alias is None) == (event_id is None):
            raise InvalidInput("give exactly one of alias or event_id", field="alias")
        urn = self.service.normalise_urn(alias) if alias is not None else None
        g = self.graph

        def work(tx: Tx) -> dict[str, Any]:
            now = utcnow()
            if urn is not None:
                found = g.tx_rows(tx, Q.clusters_linked_by_alias, urn=urn)
            else:
                found = g.tx_rows(tx, Q.clusters_linked_by_event, event_id=event_id)
            cluster_ids = sorted({r["cluster_id"] for r in found})
            g.lock_clusters(tx, cluster_ids, [], now)
            if urn is not None:
                stripped = g.tx_rows(tx, Q.strip_alias_evidence, urn=urn,
                                     cluster_ids=cluster_ids, now=now)
            else:
                stripped = g.tx_rows(tx, Q.strip_event_evidence, event_id=event_id,
                                     cluster_ids=cluster_ids, now=now)
                if not stripped:
                    raise NotFound(f"no event {event_id}", field="event_id")
            splits = {cid: self._split(tx, cid, now) for cid in cluster_ids}
            g.record_deliveries(tx, now, [], [
                outbox.change("identity.split", parts[0], [cid, *parts], {
                    "cluster_id": cid, "split_into": parts,
                    "evidence_removed": {"alias": urn} if urn else {"event_id": event_id}})
                for cid, parts in splits.items() if parts != [cid]])
            return {"evidence": urn or event_id, "links_removed": stripped[0]["removed"],
                    "clusters": splits}

        return g.write(work)

    def _split(self, tx: Tx, cluster_id: str, now) -> list[str]:
        """Relabel a cluster's true components; returns the resulting cluster ids."""
        rows = self.graph.tx_rows(tx, Q.cluster_graph, cluster_id=cluster_id)
        comps = components(
            [r["profile_id"] for r in rows],
            [(r["profile_id"], other) for r in rows for other in r["linked"]],
        )
        if len(comps) <= 1:
            return [cluster_id]
        fresh = [{"cluster_id": new_id("clu"), "profile_ids": sorted(c)}
                 for c in sorted(comps, key=lambda c: (-len(c), min(c)))]
        self.graph.tx_rows(tx, Q.split_cluster, cluster_id=cluster_id, components=fresh, now=now)
        return [c["cluster_id"] for c in fresh]

    # -- manual link ------------------------------------------------------------------
    def link(self, from_profile: str, to_profile: str, reason: str) -> dict[str, Any]:
        g = self.graph
        if from_profile == to_profile:
            raise InvalidInput("a profile cannot be linked to itself", field="to")

        def work(tx: Tx) -> dict[str, Any]:
            now = utcnow()
            ends = []
            for field, pid in (("from", from_profile), ("to", to_profile)):
                row = g.tx_rows(tx, Q.read_profile, profile_id=pid)
                if not row:
                    raise NotFound(f"no profile {pid}", field=field)
                p = row[0]["profile"]
                ends.append(Holder(p["profile_id"], p["cluster_id"], p["created_at"]))
            holders = {"ends": ends}
            holders, clusters = lock_holders(
                g, tx, holders, now, self.service.policy.unlimited_types)
            a, b = holders["ends"]
            g.link_profiles(tx, [{"from": a.profile_id, "to": b.profile_id, "via": [],
                                  "reason": "manual", "event_id": None, "note": reason}], now)
            if a.cluster_id == b.cluster_id:
                return {"cluster_id": a.cluster_id}
            ranked = sorted((clusters[a.cluster_id], clusters[b.cluster_id]),
                            key=lambda c: (-c.size, c.created_at, c.cluster_id))
            g.merge_clusters(tx, ranked[0].cluster_id, [ranked[1].cluster_id], now)
            g.record_deliveries(tx, now, [], [outbox.merged(
                ranked[0].cluster_id, [ranked[1].cluster_id],
                [{"from": a.profile_id, "to": b.profile_id, "via": [], "reason": "manual",
                  "created_at": now, "note": reason}])])
            return {"cluster_id": ranked[0].cluster_id}

        return g.write(work)

    # -- erasure ----------------------------------------------------------------------
    def erase(self, cluster_id: str) -> dict[str, Any]:
        """Erase the person a cluster id names. An id merged away is followed to the live
        cluster that holds the person now; an id split into several people is not erased
        (``split_into`` lists them: erase each that is this person); an unknown id is a
        404. Erasing again deletes nothing (the id stays known, as erased)."""
        g = self.graph
        for _ in range(5):  # a merge between following the id and locking it: follow again
            target = self._live(cluster_id)
            if isinstance(target, list):
                return {"cluster_id": cluster_id, "split_into": target}

            def work(tx: Tx, target: str = target) -> dict[str, int] | None:
                now = utcnow()
                locked = g.lock_clusters(tx, [target], [], now)["clusters"]
                if locked and locked[0].get("merged_into"):
                    return None
                g.tx_rows(tx, Q.drop_person_deliveries, cluster_id=target)
                counts = g.tx_rows(tx, Q.erase_cluster, cluster_id=target, now=now)[0]
                if counts["profiles"]:  # erasing again tells no one again
                    g.record_deliveries(tx, now, [], [outbox.change(
                        "identity.erased", None, [target], {"cluster_id": target})])
                return counts

            counts = g.write(work)
            if counts is not None:
                found = {"cluster_id": target, "deleted": counts}
                return found if target == cluster_id else {**found, "requested": cluster_id}
        raise InvalidInput(f"cluster {cluster_id} keeps being merged; try again",
                           field="cluster_id")

    def _live(self, cluster_id: str) -> str | list[str]:
        node = self.graph.read_cluster_node(cluster_id)
        if node is None:
            raise NotFound(f"no cluster {cluster_id}", field="cluster_id")
        if not node["merged_into"] and not node["split_into"]:
            return cluster_id
        live = self.service.successors(cluster_id)
        return live[0] if len(live) == 1 else live

    # -- explain ----------------------------------------------------------------------
    def explain(self, cluster_id: str, from_profile: str, to_profile: str) -> dict[str, Any]:
        links = self.graph.cluster_links(cluster_id)
        members = self.graph.cluster_profile_ids(cluster_id)
        if from_profile not in members:
            raise NotFound(f"profile {from_profile} is not in cluster {cluster_id}",
                           field="from")
        if to_profile not in members:
            return self._apart(cluster_id, from_profile, to_profile)
        adjacent: dict[str, list[dict]] = {}
        for link in links:
            adjacent.setdefault(link["from"], []).append(link)
            adjacent.setdefault(link["to"], []).append(link)
        previous: dict[str, tuple[str, dict] | None] = {from_profile: None}
        queue = deque([from_profile])
        while queue:
            here = queue.popleft()
            for link in adjacent.get(here, []):
                there = link["to"] if link["from"] == here else link["from"]
                if there not in previous:
                    previous[there] = (here, link)
                    queue.append(there)
        if to_profile not in previous:
            raise NotFound("these profiles are not joined by SAME_AS links", field="to")
        path, node = [], to_profile
        while (step := previous[node]) is not None:
            node, link = step
            path.append(link)
        return {"cluster_id": cluster_id, "from": from_profile, "to": to_profile,
                "path": list(reversed(path))}

    def _apart(self, cluster_id: str, from_profile: str, to_profile: str) -> dict[str, Any]:
        """Two profiles in different clusters: the device hand-overs and first logins that
        kept them apart (docs/identity.md#device-hand-over,
        docs/identity.md#a-known-persons-first-login); 404 when nothing did (they never
        met)."""
        other = self.graph.read_profile(to_profile)
        kept_apart = self.graph.handovers_between(cluster_id, other["profile"]["cluster_id"]
                                                  ) if other else []
        if not kept_apart:
            raise NotFound(f"profile {to_profile} is not in cluster {cluster_id}", field="to")
        return {"cluster_id": cluster_id, "from": from_profile, "to": to_profile, "path": [],
                "joined": False, "to_cluster_id": other["profile"]["cluster_id"],
                "kept_apart": kept_apart}
