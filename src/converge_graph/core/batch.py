"""Resolve a batch of writes in memory, exactly as committing them one by one would. Pure.

The store reads the batch's neighbourhood once, under the same locks a single write
takes (its aliases, its events, then every cluster involved). :class:`Overlay` then
replays the writes in order over that neighbourhood with the same resolver and policy
(:func:`resolver.decide_protected`), keeping what each write changed — and leaves a
:class:`Delta` that a constant number of ``UNWIND $rows`` statements write back.
A single write is a batch of one: there is one resolution path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from converge_graph.core import properties as props_mod
from converge_graph.core.aliases import Alias
from converge_graph.core.ids import new_id
from converge_graph.core.policy import Policy
from converge_graph.core.resolver import (
    ClusterInfo,
    Evidence,
    Holder,
    RefusalKind,
    SessionRole,
    decide_protected,
    session_moves,
    session_role,
)
from converge_graph.core.trust import Trust, strongest

CONFLICT_KINDS = {RefusalKind.LIMIT: "refused_merge", RefusalKind.BRIDGE: "refused_bridge",
                  RefusalKind.UNSIGNED: "unsigned_alias", RefusalKind.EVENT_HUB: "event_hub",
                  RefusalKind.HANDOVER: "device_handover",
                  RefusalKind.FIRST_LOGIN: "first_login"}
# The most events one device's session keeps for stitching (its newest): a bound on what a
# login moves and on what every write on the device reads back.
SESSION_MAX = 100


@dataclass
class Prepared:
    """One write after screening, ready to resolve."""

    source_id: str
    method: str
    event_name: str | None
    properties: dict[str, Any]
    profile_properties: dict[str, Any]
    aliases: list[Alias]  # sorted; the cookie alias included for browser writes
    cookie_urn: str | None
    event_id: str | None
    ts: datetime
    ignored: list[dict[str, str]]
    trusted: bool = True  # from a secret-token source (webhook, import), not the browser
    # Record the event's deliveries to destinations; an import of history turns it off
    # (docs/destinations.md#imports-and-destinations). Identity changes are recorded anyway.
    forward: bool = True
    alias_trust: dict[str, Trust] = field(default_factory=dict)  # urn -> signed | claim

    @property
    def evidence_trust(self) -> Trust:
        return Trust.TRUSTED if self.trusted else Trust.CLAIM

    def trust_of(self, urn: str) -> Trust:
        return self.alias_trust.get(urn, self.evidence_trust)
    # The profile property keys this write may make node properties (None: all of them);
    # the others live only in properties_json (docs/security.md#input-hygiene-and-limits).
    promoted: frozenset[str] | None = None
    event_promoted: frozenset[str] | None = None  # the same for the event's `prop.<key>`


@dataclass
class AliasState:
    holders: list[str]  # profile ids
    quarantined: bool
    link_blocked: bool
    trust: dict[str, Trust] = field(default_factory=dict)  # holder -> attachment trust
    last_seen: dict[str, datetime] = field(default_factory=dict)  # holder -> last event time
    # A device's current session (resolver case 10): its anonymous events' ids, oldest first,
    # and the time of its last write.
    session: list[str] = field(default_factory=list)
    session_last: datetime | None = None
    # The tokens (policy.handoff_types) a device handed on in its last write carrying any
    # (resolver case 6a).
    handed_on: list[str] = field(default_factory=list)

    def vouched_holders(self) -> int:
        return sum(1 for p in self.holders if self.trust.get(p, Trust.TRUSTED).vouched)


@dataclass
class EventState:
    seen: bool  # stored before this write (earlier in the batch, or before the batch)
    performer: str | None
    link_blocked: bool
    created_here: bool = False
    dups: int = 0
    dup_sources: list[str] = field(default_factory=list)
    source_id: str | None = None
    trust: Trust = Trust.TRUSTED  # of the write whose content the stored event is
    shared_links: int = 0  # profiles joined through this event so far
    links_added: bool = False
    replace: dict[str, Any] | None = None  # a trusted write's content replacing a claim's


@dataclass
class Neighbourhood:
    """What the store read under lock; profile and cluster facts of every holder."""

    aliases: dict[str, AliasState]
    events: dict[str, EventState]
    profile_cluster: dict[str, str]
    profile_created: dict[str, datetime]
    clusters: dict[str, ClusterInfo]
    cluster_urns: dict[str, set[str]]
    profile_state: dict[str, tuple[dict[str, Any], dict[str, str]]]


@dataclass
class Delta:
    profiles: list[dict[str, Any]] = field(default_factory=list)
    clusters: list[dict[str, Any]] = field(default_factory=list)
    relabels: list[dict[str, str]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[dict[str, Any]] = field(default_factory=list)
    properties: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[str] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    sessions: list[dict[str, Any]] = field(default_factory=list)  # {urn, events, last}
    moves: list[dict[str, Any]] = field(default_factory=list)  # {event_id, to}: stored events
    handoffs: list[dict[str, Any]] = field(default_factory=list)  # {urn, tokens}: handed_on
    deliveries: int = 0  # outbox rows recorded with it (set once written)


class Overlay:
    def __init__(self, nb: Neighbourhood, policy: Policy, now: datetime) -> None:
        self.nb = nb
        self.policy = policy
        self.now = now
        self.parent: dict[str, str] = {}
        self.existing_clusters = set(nb.clusters)
        self.merged_at: dict[str, datetime] = {}
        self.new_profiles: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.seen_span: dict[tuple[str, str], tuple[datetime, datetime]] = {}
        self.changed_props: dict[str, dict[str, Any]] = {}
        self.quarantined: list[str] = []
        self.conflicts: list[dict[str, Any]] = []
        self.attach_trust: dict[tuple[str, str], Trust] = {}
        self.sessions: set[str] = set()  # device urns whose session changed
        self.moved: dict[str, str] = {}  # stored event id -> its new performer
        self.handed: set[str] = set()  # device urns whose handed_on changed

    def find(self, cluster_id: str) -> str:
        while cluster_id in self.parent:
            cluster_id = self.parent[cluster_id]
        return cluster_id

    def _holder(self, profile_id: str, urn: str | None = None) -> Holder:
        state = self.nb.aliases[urn] if urn else None
        trust = state.trust.get(profile_id, Trust.TRUSTED) if state else Trust.TRUSTED
        return Holder(profile_id, self.find(self.nb.profile_cluster[profile_id]),
                      self.nb.profile_created[profile_id], trust,
                      state.last_seen.get(profile_id) if state else None)

    def _screen_flags(self, aliases: list[Alias]) -> tuple[list[Alias], list[dict[str, str]]]:
        """Aliases that may not link: unmerged evidence and quarantined hubs. Claims alone
        cannot make a hub of an alias that vouched evidence holds: then only vouched
        holders count."""
        kept, ignored = [], []
        for alias in aliases:
            state = self.nb.aliases[alias.urn]
            vouched = state.vouched_holders()
            count = vouched if vouched else len(state.holders)
            if state.link_blocked:
                ignored.append({"alias": alias.urn,
                                "reason": "unmerged: this alias no longer links profiles"})
            elif state.quarantined or count >= self.policy.hub_threshold:
                if not state.quarantined:
                    state.quarantined = True
                    self.quarantined.append(alias.urn)
                ignored.append({"alias": alias.urn, "reason":
                                f"quarantined: held by {len(state.holders)} profiles "
                                "(a hub); review it under GET /v1/conflicts"})
            else:
                kept.append(alias)
        return kept, ignored

    def apply(self, index: int, w: Prepared) -> dict[str, Any]:
        now = self.now + timedelta(microseconds=index)
        kept, ignored = self._screen_flags(w.aliases)
        quarantined_now = {i["alias"] for i in ignored if i["alias"] in self.quarantined}
        created, performer, event, takeover = False, None, None, False
        event_trust = Trust.TRUSTED
        if w.event_id is not None:
            event = self.nb.events[w.event_id]
            event_trust = event.trust
            if event.seen:
                event.dups += 1
                # Trusted evidence wins: a trusted write's content replaces a claim's, the
                # browser copy staying as duplicate evidence.
                takeover = w.trusted and not event.trust.vouched
                event.dup_sources.append(event.source_id if takeover else w.source_id)
                if event.performer and not event.link_blocked:
                    if event.shared_links >= self.policy.event_hub_threshold:
                        ignored.append({"alias": f"event:{w.event_id}", "kind":
                                        RefusalKind.EVENT_HUB, "reason":
                                        f"event_hub: this event already joined "
                                        f"{event.shared_links + 1} profiles"})
                    else:
                        performer = self._holder(event.performer)
            else:
                event.seen = created = event.created_here = True
                event.source_id = w.source_id
                event.trust = w.evidence_trust
        holders = {a.urn: [self._holder(p, a.urn) for p in self.nb.aliases[a.urn].holders]
                   for a in kept}
        clusters = {c: info for c, info in self.nb.clusters.items() if c not in self.parent}
        evidence = Evidence(w.trusted, {a.urn: w.trust_of(a.urn) for a in kept}, event_trust)
        decision, kept, refusals = decide_protected(
            kept, holders, clusters, self.nb.cluster_urns, self.policy,
            cookie_urn=w.cookie_urn, performer=performer, evidence=evidence, at=w.ts,
            handed=self._handed(kept), live=self._live(w, kept),
        )
        for refusal in refusals:
            alias = f"event:{w.event_id}" if refusal.alias is None else refusal.alias
            ignored.append({"alias": alias, "reason": refusal.reason, "kind": refusal.kind,
                            "other_profile_id": refusal.other_profile})

        profile_id, cluster_id = decision.profile_id, decision.winner
        if cluster_id is None:
            cluster_id = new_id("clu")
            self.nb.clusters[cluster_id] = ClusterInfo(cluster_id, 0, now, False)
            self.nb.cluster_urns[cluster_id] = set()
        if profile_id is None:
            profile_id = new_id("prf")
            self.nb.profile_cluster[profile_id] = cluster_id
            self.nb.profile_created[profile_id] = now
            self.new_profiles.append({"profile_id": profile_id, "created_at": now})
            info = self.nb.clusters[cluster_id]
            self.nb.clusters[cluster_id] = ClusterInfo(cluster_id, info.size + 1, info.created_at,
                                                       info.established)
        for link in decision.links:
            self.links.append({"from": profile_id, "to": link.to_profile, "via": link.via,
                               "reason": link.reason, "event_id": w.event_id,
                               "created_at": now, "trust": str(link.trust)})
            if link.reason == "shared_event" and event is not None:
                event.shared_links += 1
                event.links_added = True
        for loser in decision.losers:
            self.parent[loser] = cluster_id
            self.merged_at[loser] = now
            win, lose = self.nb.clusters[cluster_id], self.nb.clusters[loser]
            self.nb.clusters[cluster_id] = ClusterInfo(cluster_id, win.size + lose.size,
                                                       win.created_at,
                                                       win.established or lose.established)
            self.nb.clusters[loser] = ClusterInfo(loser, 0, lose.created_at, lose.established)
            self.nb.cluster_urns.setdefault(cluster_id, set()).update(
                self.nb.cluster_urns.pop(loser, set()))
        unlimited = set(self.policy.unlimited_types)
        devices = self.policy.device_types
        for alias in kept:
            state = self.nb.aliases[alias.urn]
            if profile_id not in state.holders:
                state.holders.append(profile_id)
                state.trust[profile_id] = w.trust_of(alias.urn)
            else:
                state.trust[profile_id] = strongest(state.trust.get(profile_id, Trust.TRUSTED),
                                                    w.trust_of(alias.urn))
            self.attach_trust[(profile_id, alias.urn)] = state.trust[profile_id]
            if state.trust[profile_id].vouched and not self.nb.clusters[cluster_id].established:
                info = self.nb.clusters[cluster_id]
                self.nb.clusters[cluster_id] = ClusterInfo(cluster_id, info.size,
                                                           info.created_at, True)
            if alias.type in devices:  # who used a device last (resolver case 6)
                seen = state.last_seen.get(profile_id)
                state.last_seen[profile_id] = w.ts if seen is None else max(seen, w.ts)
            first, last = self.seen_span.get((profile_id, alias.urn), (w.ts, w.ts))
            self.seen_span[(profile_id, alias.urn)] = (min(first, w.ts), max(last, w.ts))
            if alias.type not in unlimited:
                self.nb.cluster_urns.setdefault(cluster_id, set()).add(alias.urn)
        if w.profile_properties:
            props, times = self.nb.profile_state.get(profile_id, ({}, {}))
            props, times, changes = props_mod.apply_latest(props, times, w.profile_properties,
                                                           w.ts, w.promoted)
            self.nb.profile_state[profile_id] = (props, times)
            self.changed_props.setdefault(profile_id, {}).update(changes)
        if created or takeover:
            event.performer = profile_id
        if takeover:
            event.source_id, event.trust = w.source_id, Trust.TRUSTED
            event.replace = {
                "event_id": w.event_id, "event_name": w.event_name, "method": w.method,
                "timestamp": w.ts, "received_at": now, "source_id": w.source_id,
                "properties_json": props_mod.dumps(w.properties), "trust": str(Trust.TRUSTED),
                **props_mod.event_node_properties(w.properties, w.event_promoted)}
        self._hand_on(kept)
        if self.policy.session_minutes:
            self._session(w, kept, profile_id, cluster_id, created, now)
        for item in w.ignored + ignored:
            kind = item.get("kind")
            if item["alias"] in quarantined_now or kind is not None:
                self.conflicts.append({
                    "conflict_id": new_id("cfl"),
                    "kind": "quarantine" if item["alias"] in quarantined_now
                    else CONFLICT_KINDS[kind],
                    "alias": item["alias"], "reason": item["reason"], "event_id": w.event_id,
                    "source_id": w.source_id, "profile_id": profile_id, "created_at": now,
                    "other_profile_id": item.get("other_profile_id"),
                })
        return {"event_id": w.event_id,
                "deduplicated": w.event_id is not None and not created,
                "profile_id": profile_id, "cluster_id": cluster_id,
                "ignored_aliases": [{"alias": i["alias"], "reason": i["reason"]}
                                    for i in w.ignored + ignored]}

    def _handed(self, aliases: list[Alias]) -> dict[str, Holder]:
        """Per device of an anonymous write, the latest vouched user of a token it handed
        on (resolver case 6a decides whether it counts)."""
        handing = [a for a in aliases if self.nb.aliases[a.urn].handed_on]
        if not handing or not all(a.type in self.policy.device_types for a in aliases):
            return {}
        out = {}
        for alias in handing:
            users = [self._holder(p, t) for t in self.nb.aliases[alias.urn].handed_on
                     if t in self.nb.aliases for p in self.nb.aliases[t].holders]
            vouched = [u for u in users if u.trust.vouched]
            if vouched:
                out[alias.urn] = max(vouched, key=lambda h: (h.last_seen or h.created_at,
                                                             h.profile_id))
        return out

    def _live(self, w: Prepared, aliases: list[Alias]) -> frozenset[str]:
        """The write's devices whose current session holds anonymous events and has had
        no gap over the window before this write (resolver case 6c): only a login asks."""
        if not (self.policy.first_login_session_only and self.policy.session_minutes) or \
                not any(a.type in self.policy.handover_types for a in aliases):
            return frozenset()
        window = timedelta(minutes=self.policy.session_minutes)
        return frozenset(
            a.urn for a in aliases if a.type in self.policy.device_types
            and (state := self.nb.aliases[a.urn]).session
            and state.session_last is not None and w.ts - state.session_last <= window)

    def _hand_on(self, kept: list[Alias]) -> None:
        """A write carrying a device and tokens it hands on records them on the device."""
        tokens = [a.urn for a in kept if a.type in self.policy.handoff_types]
        if not tokens:
            return
        tokens.sort()
        for alias in kept:
            if alias.type in self.policy.device_types and alias.type not in \
                    self.policy.handoff_types:
                state = self.nb.aliases[alias.urn]
                if state.handed_on != tokens:
                    state.handed_on = tokens
                    self.handed.add(alias.urn)

    def _session(self, w: Prepared, kept: list[Alias], profile_id: str, cluster_id: str,
                 created: bool, now: datetime) -> None:
        """Resolver case 10 on this write's devices: keep their sessions, and a login takes
        the anonymous events of its session from whoever else performed them."""
        window = timedelta(minutes=self.policy.session_minutes)
        role = session_role(kept, self.policy)
        for alias in kept:
            if alias.type not in self.policy.device_types:
                continue
            state = self.nb.aliases[alias.urn]
            self.sessions.add(alias.urn)
            if state.session_last is not None and w.ts - state.session_last > window:
                state.session = []
            state.session_last = w.ts if state.session_last is None else max(
                state.session_last, w.ts)
            if role is SessionRole.ANONYMOUS and created and w.event_id is not None:
                state.session = [*state.session, w.event_id][-SESSION_MAX:]
            if role is not SessionRole.LOGIN:
                continue
            session = [(eid, self._holder(ev.performer)) for eid in state.session
                       if (ev := self.nb.events.get(eid)) is not None
                       and ev.performer in self.nb.profile_cluster]
            state.session = []
            moves = session_moves(session, cluster_id)
            for eid, _ in moves:
                event = self.nb.events[eid]
                event.performer = profile_id
                if not event.created_here:
                    self.moved[eid] = profile_id
            if moves:
                before = sorted({h.profile_id for _, h in moves})
                self.conflicts.append({
                    "conflict_id": new_id("cfl"), "kind": "session_stitch", "alias": alias.urn,
                    "reason": f"session_stitch: {len(moves)} anonymous events of this login's "
                    f"session on {alias.urn} (no gap over {self.policy.session_minutes} "
                    f"minutes) moved from {', '.join(before)} to {profile_id}: "
                    f"{', '.join(eid for eid, _ in moves)}",
                    "event_id": w.event_id, "source_id": w.source_id, "profile_id": profile_id,
                    "created_at": now, "other_profile_id": before[0]})

    def delta(self) -> Delta:
        d = Delta(links=self.links, quarantined=self.quarantined, conflicts=self.conflicts)
        d.profiles = [{**p, "cluster_id": self.find(self.nb.profile_cluster[p["profile_id"]])}
                      for p in self.new_profiles]
        touched = self._touched()
        for cluster_id, info in self.nb.clusters.items():
            root = self.find(cluster_id)
            is_new = cluster_id not in self.existing_clusters
            if root == cluster_id and not is_new and cluster_id not in touched:
                continue
            d.clusters.append({
                "cluster_id": cluster_id, "size": info.size, "created_at": info.created_at,
                "merged_into": root if root != cluster_id else None,
                "merged_at": self.merged_at.get(cluster_id),
            })
            if root != cluster_id and not is_new:
                d.relabels.append({"from": cluster_id, "to": root})
        d.attachments = [{"profile_id": p, "urn": u, "first": f, "last": la,
                          "trust": str(self.attach_trust[(p, u)])}
                         for (p, u), (f, la) in self.seen_span.items()]
        for profile_id, changes in self.changed_props.items():
            props, times = self.nb.profile_state[profile_id]
            d.properties.append({"profile_id": profile_id, "node_props": changes,
                                 "properties_json": props_mod.dumps(props),
                                 "property_ts_json": props_mod.dumps(times)})
        for event_id, ev in self.nb.events.items():
            if ev.dups or ev.created_here or ev.links_added:
                d.events.append({"event_id": event_id, "dups": ev.dups,
                                 "dup_sources": ev.dup_sources,
                                 "performer": ev.performer
                                 if ev.created_here or ev.replace else None,
                                 "source_id": ev.source_id, "replace": ev.replace,
                                 "shared_links": ev.shared_links})
        d.sessions = [{"urn": urn, "events": self.nb.aliases[urn].session,
                       "last": self.nb.aliases[urn].session_last}
                      for urn in sorted(self.sessions)]
        d.handoffs = [{"urn": urn, "tokens": self.nb.aliases[urn].handed_on}
                      for urn in sorted(self.handed)]
        d.moves = [{"event_id": eid, "to": to} for eid, to in sorted(self.moved.items())
                   if self.nb.events[eid].replace is None]
        return d

    def _touched(self) -> set[str]:
        """Existing clusters whose size changed: they gained profiles or absorbed others."""
        touched = set(self.parent.values())
        touched.update(self.find(self.nb.profile_cluster[p["profile_id"]])
                       for p in self.new_profiles)
        return touched
