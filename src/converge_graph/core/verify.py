"""Recompute connected components from SAME_AS and compare with the maintained cluster_ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent.setdefault(x, x)
        if parent != x:
            root = self.find(parent)
            self.parent[x] = root
            return root
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[ra] = rb


def mismatches(profiles: Iterable[tuple[str, str]], links: Iterable[tuple[str, str]]) -> list[dict]:
    """Profiles whose cluster_id disagrees with the component SAME_AS puts them in.

    A component must carry exactly one cluster_id and a cluster_id exactly one component;
    every profile of a component or cluster_id breaking that is reported.
    """
    uf = UnionFind()
    cluster_of: dict[str, str] = {}
    for profile_id, cluster_id in profiles:
        cluster_of[profile_id] = cluster_id
        uf.find(profile_id)
    for a, b in links:
        uf.union(a, b)
    ids_per_component: dict[str, set[str]] = defaultdict(set)
    components_per_id: dict[str, set[str]] = defaultdict(set)
    for profile_id, cluster_id in cluster_of.items():
        root = uf.find(profile_id)
        ids_per_component[root].add(cluster_id)
        components_per_id[cluster_id].add(root)
    bad = []
    for profile_id, cluster_id in sorted(cluster_of.items()):
        root = uf.find(profile_id)
        if len(ids_per_component[root]) > 1 or len(components_per_id[cluster_id]) > 1:
            bad.append({
                "profile_id": profile_id, "cluster_id": cluster_id,
                "component_cluster_ids": sorted(ids_per_component[root]),
            })
    return bad


def components(profiles: Iterable[str], links: Iterable[tuple[str, str]]) -> list[frozenset[str]]:
    uf = UnionFind()
    for p in profiles:
        uf.find(p)
    for a, b in links:
        uf.union(a, b)
    groups: dict[str, set[str]] = defaultdict(set)
    for p in list(uf.parent):
        groups[uf.find(p)].add(p)
    return [frozenset(g) for g in groups.values()]
