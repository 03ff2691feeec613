"""Identity decisions for one write, given the neighbourhood read under lock. Pure.

The cases (SPEC §4), and exactly these branches:

1. Browser write: the profile is the oldest holder of the write's cookie alias;
   a new profile when no one holds it yet.
2. Webhook write: the profile is the oldest holder of the highest-priority alias
   that anyone holds; a new profile when no alias has a holder (or there are none).
3. Every other cluster holding one of the write's aliases is joined by one
   ``SAME_AS`` edge to one of its holders (never one edge per holder), with the
   shared aliases as evidence (``shared_alias``).
4. A deduplicated event whose original performer lives in a cluster not yet
   joined adds one ``shared_event`` edge to that performer.
5. Union by size: the largest cluster keeps its id; ties go to the oldest cluster.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from converge_graph.aliases import Alias
from converge_graph.policy import Policy


@dataclass(frozen=True)
class Holder:
    profile_id: str
    cluster_id: str
    created_at: datetime


@dataclass(frozen=True)
class ClusterInfo:
    cluster_id: str
    size: int
    created_at: datetime


@dataclass(frozen=True)
class Link:
    to_profile: str
    to_cluster: str
    via: list[str]
    reason: str


@dataclass
class Decision:
    profile_id: str | None  # None: create a new profile
    cluster_id: str | None  # the cluster the profile is in before this write
    links: list[Link] = field(default_factory=list)
    winner: str | None = None  # cluster id that survives the unions
    losers: list[str] = field(default_factory=list)


def _oldest(holders: list[Holder]) -> Holder:
    return min(holders, key=lambda h: (h.created_at, h.profile_id))


def choose_profile(
    aliases: list[Alias], holders: dict[str, list[Holder]], policy: Policy, cookie_urn: str | None
) -> Holder | None:
    """Cases 1 and 2: the existing profile this write lands on, or None for a new one."""
    if cookie_urn is not None:
        held = holders.get(cookie_urn, [])
        return _oldest(held) if held else None
    held_aliases = [a for a in aliases if holders.get(a.urn)]
    if not held_aliases:
        return None
    best = min(policy.rank(a.type) for a in held_aliases)
    candidates = [h for a in held_aliases if policy.rank(a.type) == best for h in holders[a.urn]]
    return _oldest(candidates)


def decide(
    aliases: list[Alias],
    holders: dict[str, list[Holder]],
    clusters: dict[str, ClusterInfo],
    policy: Policy,
    *,
    cookie_urn: str | None = None,
    performer: Holder | None = None,
) -> Decision:
    """What one write does to identity. ``holders`` and ``clusters`` were read under lock."""
    profile = choose_profile(aliases, holders, policy, cookie_urn)
    own_cluster = profile.cluster_id if profile else None
    decision = Decision(
        profile_id=profile.profile_id if profile else None, cluster_id=own_cluster
    )

    # Case 3: per other cluster, the evidence aliases and one holder to link to.
    evidence: dict[str, list[Alias]] = {}
    for alias in aliases:
        for cluster_id in {h.cluster_id for h in holders.get(alias.urn, [])}:
            if cluster_id != own_cluster:
                evidence.setdefault(cluster_id, []).append(alias)
    for cluster_id in sorted(evidence):
        shared = evidence[cluster_id]
        strongest = min(shared, key=lambda a: (policy.rank(a.type), a.urn))
        target = _oldest([h for h in holders[strongest.urn] if h.cluster_id == cluster_id])
        decision.links.append(
            Link(target.profile_id, cluster_id, sorted(a.urn for a in shared), "shared_alias")
        )

    # Case 4: the same event reported from two places.
    if (
        performer is not None
        and performer.cluster_id != own_cluster
        and performer.cluster_id not in evidence
    ):
        decision.links.append(Link(performer.profile_id, performer.cluster_id, [], "shared_event"))

    # Case 5: union by size.
    joined = {link.to_cluster for link in decision.links}
    if own_cluster is not None:
        joined.add(own_cluster)
    if joined:
        ranked = sorted(
            (clusters[c] for c in joined), key=lambda c: (-c.size, c.created_at, c.cluster_id)
        )
        decision.winner = ranked[0].cluster_id
        decision.losers = [c.cluster_id for c in ranked[1:]]
    return decision
