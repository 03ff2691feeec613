"""The lock protocol every write follows (docs/identity.md#the-write-algorithm).

Writers lock in a stable order: the write's alias nodes (by urn), its events, then every
cluster involved (``:Cluster`` lock nodes, sorted). Between reading a profile's cluster
and locking it a concurrent merge may relabel the profile, so memberships are re-read
under the locks until none moved.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from converge_graph.core.resolver import ClusterInfo, Holder

if TYPE_CHECKING:
    from converge_graph.store.graph import Graph, Tx


def lock_members(
    graph: Graph, tx: Tx, profile_cluster: dict[str, str], now: datetime,
    unlimited: list[str], wants_state: bool = False, first: dict[str, Any] | None = None,
) -> tuple[dict[str, str], dict[str, ClusterInfo], dict[str, set[str]], dict[str, dict[str, Any]]]:
    """Lock every cluster of these profiles, re-reading memberships until none moved; with
    the locks, read each cluster's limited aliases and (if asked) the profiles' properties.
    ``first`` is a lock already taken and read (read_batch.cypher takes it in the write's
    first round trip); only profiles that moved since then cost another.
    Returns each profile's current cluster, the clusters, their limited urns and states."""
    if not profile_cluster:  # only new aliases and events: no cluster to lock, no round trip
        return {}, {}, {}, {}
    profile_ids = sorted(profile_cluster)
    wanted = set(profile_cluster.values())
    locked: dict[str, ClusterInfo] = {}
    urns: dict[str, set[str]] = {}
    states: dict[str, dict[str, Any]] = {}
    found = first
    while True:
        if found is None:
            found = graph.lock_clusters(
                tx, sorted(wanted - locked.keys()), profile_ids, now, unlimited,
                profile_ids if wants_state and not states else [],
            )
        for c in found["clusters"]:
            locked[c["cluster_id"]] = ClusterInfo(c["cluster_id"], c["size"], c["created_at"],
                                                  found["established"].get(c["cluster_id"], True))
        urns.update(found["urns"])
        states.update(found["states"])
        cluster_of = {m["profile_id"]: m["cluster_id"] for m in found["members"]}
        current = {p: cluster_of[p] for p in profile_ids if p in cluster_of}
        wanted = set(current.values())
        if wanted <= locked.keys():
            return current, {c: locked[c] for c in wanted}, urns, states
        found = None


def lock_holders(
    graph: Graph, tx: Tx, holders: dict[str, list[Holder]], now: datetime, unlimited: list[str],
) -> tuple[dict[str, list[Holder]], dict[str, ClusterInfo]]:
    """:func:`lock_members` for alias holders as the resolver sees them."""
    everyone = [h for hs in holders.values() for h in hs]
    current, clusters, _, _ = lock_members(
        graph, tx, {h.profile_id: h.cluster_id for h in everyone}, now, unlimited)
    moved = {urn: [replace(h, cluster_id=current[h.profile_id]) for h in hs]
             for urn, hs in holders.items()}
    return moved, clusters
