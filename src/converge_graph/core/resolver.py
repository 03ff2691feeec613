"""Identity decisions for one write, given the neighbourhood read under lock. Pure.

The cases (docs/identity.md#the-write-algorithm, docs/security.md#the-trust-model), and
exactly these branches:

1. Browser write: the profile is the oldest holder of the write's cookie alias;
   a new profile when no one holds it yet.
2. Webhook (trusted) write: the profile is the oldest holder of the highest-priority
   alias that anyone holds *with vouched evidence* (trusted or signed) — a profile that
   only claims an alias is never the one a trusted write lands on; a new profile when
   no alias has such a holder, except that a repeated event with no alias at all lands
   on the original performer (when that event is itself trusted).
3. Every other cluster holding one of the write's aliases is joined by one
   ``SAME_AS`` edge to one of its holders (never one edge per holder), with the
   shared aliases as evidence (``shared_alias``). The edge's trust is the best, over
   the shared aliases, of the weaker of the write's evidence and the holder's.
4. A deduplicated event whose original performer lives in a cluster not yet
   joined adds one ``shared_event`` edge to that performer, as trusted as the weaker
   of the two writes.
5. Union by size: the largest cluster keeps its id; ties go to the oldest cluster.

:func:`decide_protected` then refuses, alias by alias, what a write may not do, under one
rule: a write may join its device to at most one person.

6. A device alias (a cookie, or a checkout or cart token its session handed on: the
   policy's ``device_types``) stands for its *current* holders: those in the cluster of
   the profile that used it last (``last_seen``). Until a device changes hands that is
   every holder; afterwards the earlier person's attachments stay, but link nothing.
   For an anonymous write (device aliases only), two refinements (:func:`device_users`):
   (a) a token the device handed on (the policy's ``handoff_types``: the cart its session
   gave the checkout domain) that a person has since used with vouched evidence (the
   backend's order) counts as that person's use of the device, at that time; (b) a
   device used by more than one person whose last user is an identified person (holds
   a login identity) whose session on it is over (``session_minutes``) is decided as if
   it were new: a shared device's anonymous use after a session is no one's until
   someone identifies on it (the policy's ``shared_device_own_profile``).
   (c) A write carrying a login identity that someone already holds, in a live session
   (``session_minutes``) on a device only anonymous use has held (no holder's person
   holds a login identity), and no hand-off token, decides the device as new: the
   login takes its session (case 10) but not the device itself, whose older anonymous
   history and later anonymous use may be the device owner's rather than a known
   visitor's (the policy's ``first_login_session_only``; :func:`first_login`).
7. Device hand-over: a write carrying devices, all held by one current person, and a
   login identity (the policy's ``handover_types``) that this person does not hold, when
   they hold some and nothing else in the write (no other alias, no repeated event) is
   theirs, names a different person: the devices change hands. The write is decided as
   if they were new (it lands where its identities say, or on a new profile) — unless
   the person it names held one before: then through that holding, back on their own
   profile of it. Each device is attached to the write's profile, which makes it the
   current holder, and the two people are not joined. So a cart handed from a device to
   a checkout page carries no one's identity across: an order whose email is not the
   device holder's does not join the two. Evidence that says "same person" still joins
   them: both identities in one trusted write, one event id.
8. Attach, never bridge: an untrusted write joining two established people is refused
   the aliases that would bridge them.
9. Limits: a cluster over its policy limits is refused the weakest alias that takes part.

Then, the same device rule once the write is placed (:func:`session_role`,
:func:`session_moves`; the session itself is kept by ``core.batch``):

10. Session stitching: a device's *session* is its anonymous writes' events since its last
    gap of more than the policy's ``session_minutes`` and since its last write carrying a
    login identity. A write carrying a login identity (and a device) ends the session and
    takes its events from whoever else performed them: the anonymous page views just
    before a login on someone else's device are the login's person's, not the device's
    previous holder's. Only events move; no profile is joined.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from converge_graph.core.aliases import Alias
from converge_graph.core.policy import Policy
from converge_graph.core.trust import Trust, strongest, weakest


@dataclass(frozen=True)
class Holder:
    profile_id: str
    cluster_id: str
    created_at: datetime
    trust: Trust = Trust.TRUSTED  # of this profile's attachment to the alias in question
    last_seen: datetime | None = None  # of that attachment (event time); None: unknown


@dataclass(frozen=True)
class ClusterInfo:
    cluster_id: str
    size: int
    created_at: datetime
    # A person established by vouched evidence (any trusted or signed alias attachment).
    established: bool = True


@dataclass(frozen=True)
class Link:
    to_profile: str
    to_cluster: str
    via: list[str]
    reason: str
    trust: Trust = Trust.TRUSTED


@dataclass(frozen=True)
class Evidence:
    """How trusted one write is: the write itself, each of its aliases, a repeated event."""

    trusted: bool = True
    aliases: dict[str, Trust] = field(default_factory=dict)  # urn -> trust; missing: the write's
    event: Trust = Trust.TRUSTED  # of the stored event this write repeats

    @property
    def write(self) -> Trust:
        return Trust.TRUSTED if self.trusted else Trust.CLAIM

    def of(self, urn: str) -> Trust:
        return self.aliases.get(urn, self.write)


TRUSTED = Evidence()


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
    aliases: list[Alias], holders: dict[str, list[Holder]], policy: Policy, cookie_urn: str | None,
    performer: Holder | None = None, evidence: Evidence = TRUSTED,
) -> Holder | None:
    """Cases 1 and 2: the existing profile this write lands on, or None for a new one."""
    if not aliases and performer is not None and (
            not evidence.trusted or evidence.event.vouched):
        # Nothing but the event identifies the writer: a retried or replayed event.
        return performer
    if cookie_urn is not None:
        held = holders.get(cookie_urn, [])
        return _oldest(held) if held else None
    if not evidence.trusted:  # never become someone else's profile
        return None
    vouched = {a.urn: [h for h in holders.get(a.urn, []) if h.trust.vouched] for a in aliases}
    held_aliases = [a for a in aliases if vouched[a.urn]]
    if not held_aliases:
        return None
    best = min(policy.rank(a.type) for a in held_aliases)
    candidates = [h for a in held_aliases if policy.rank(a.type) == best for h in vouched[a.urn]]
    return _oldest(candidates)


def decide(
    aliases: list[Alias],
    holders: dict[str, list[Holder]],
    clusters: dict[str, ClusterInfo],
    policy: Policy,
    *,
    cookie_urn: str | None = None,
    performer: Holder | None = None,
    evidence: Evidence = TRUSTED,
) -> Decision:
    """What one write does to identity. ``holders`` and ``clusters`` were read under lock."""
    profile = choose_profile(aliases, holders, policy, cookie_urn, performer, evidence)
    own_cluster = profile.cluster_id if profile else None
    decision = Decision(
        profile_id=profile.profile_id if profile else None, cluster_id=own_cluster
    )

    # Case 3: per other cluster, the evidence aliases and one holder to link to.
    shared_by: dict[str, list[Alias]] = {}
    for alias in aliases:
        for cluster_id in {h.cluster_id for h in holders.get(alias.urn, [])}:
            if cluster_id != own_cluster:
                shared_by.setdefault(cluster_id, []).append(alias)
    for cluster_id in sorted(shared_by):
        shared = shared_by[cluster_id]
        best = min(shared, key=lambda a: (policy.rank(a.type), a.urn))
        target = _oldest([h for h in holders[best.urn] if h.cluster_id == cluster_id])
        trust = strongest(*(weakest(evidence.of(a.urn), *_best_holding(holders, a, cluster_id))
                            for a in shared))
        decision.links.append(
            Link(target.profile_id, cluster_id, sorted(a.urn for a in shared), "shared_alias",
                 trust)
        )

    # Case 4: the same event reported from two places.
    if (
        performer is not None
        and performer.cluster_id != own_cluster
        and performer.cluster_id not in shared_by
    ):
        decision.links.append(Link(performer.profile_id, performer.cluster_id, [], "shared_event",
                                   weakest(evidence.write, evidence.event)))

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


def _best_holding(holders: dict[str, list[Holder]], alias: Alias, cluster_id: str) -> list[Trust]:
    return [strongest(*(h.trust for h in holders[alias.urn] if h.cluster_id == cluster_id))]


class RefusalKind(StrEnum):
    LIMIT = "limit"  # the cluster would break a policy limit
    BRIDGE = "bridge"  # an untrusted write would join two established people
    UNSIGNED = "unsigned"  # a strong id from the browser without a valid signature
    EVENT_HUB = "event_hub"  # one event id already joined too many profiles
    HANDOVER = "device_handover"  # a device changed hands: it joins not its two people
    FIRST_LOGIN = "first_login"  # a known person's login took a device's session only


@dataclass(frozen=True)
class Refusal:
    alias: str | None  # None: the write's event id (a shared event given up)
    reason: str
    kind: RefusalKind = RefusalKind.LIMIT
    other_profile: str | None = None  # the other side kept apart (a hand-over's earlier holder)


def urn_type(urn: str) -> str:
    return urn.split(":", 2)[1]


def _over_limit(
    decision: Decision, aliases: list[Alias], cluster_urns: dict[str, set[str]], policy: Policy
) -> str | None:
    """The alias type whose per-cluster limit this decision would break, if any.

    Only a write that makes a cluster worse counts: a cluster already over a limit
    (an older, looser policy) still takes writes that add nothing of that type.
    """
    joined = {link.to_cluster for link in decision.links}
    if decision.cluster_id:
        joined.add(decision.cluster_id)
    result = set().union(*(cluster_urns.get(c, set()) for c in joined)) | {a.urn for a in aliases}
    own = cluster_urns.get(decision.cluster_id or "", set())
    by_type: dict[str, int] = {}
    for urn in result:
        by_type[urn_type(urn)] = by_type.get(urn_type(urn), 0) + 1
    own_by_type: dict[str, int] = {}
    for urn in own:
        own_by_type[urn_type(urn)] = own_by_type.get(urn_type(urn), 0) + 1
    for alias_type in sorted(by_type, key=lambda t: (policy.rank(t), t)):
        limit = policy.limit(alias_type)
        count = by_type[alias_type]
        if limit is not None and count > limit and count > own_by_type.get(alias_type, 0):
            return alias_type
    return None


def _bridged(decision: Decision, clusters: dict[str, ClusterInfo], policy: Policy,
             evidence: Evidence) -> set[str]:
    """Established clusters an untrusted write may not join: all but one (attach, never
    bridge). The one kept is the browser's own person if it has one, else the one reached
    through the strongest alias (then the oldest)."""
    if evidence.trusted:
        return set()
    joined = {link.to_cluster for link in decision.links} | {decision.cluster_id}
    established = sorted(c for c in joined if c in clusters and clusters[c].established)
    if len(established) <= 1:
        return set()
    if decision.cluster_id in established:
        keep = decision.cluster_id
    else:
        def strength(link: Link) -> tuple[int, datetime, str]:
            rank = min((policy.rank(urn_type(u)) for u in link.via), default=10**6)
            return rank, clusters[link.to_cluster].created_at, link.to_cluster
        keep = min((k for k in decision.links if k.to_cluster in established), key=strength
                   ).to_cluster
    return set(established) - {keep}


def _recency(h: Holder) -> tuple[datetime, datetime, str]:
    """Who used a device last: its attachment's last_seen (unknown: when the profile began)."""
    return h.last_seen or h.created_at, h.created_at, h.profile_id


def current_holders(aliases: list[Alias], holders: dict[str, list[Holder]], policy: Policy
                    ) -> dict[str, list[Holder]]:
    """Case 6: a device alias's holders narrowed to the cluster of its last user."""
    narrowed = holders
    for alias in aliases:
        held = holders.get(alias.urn)
        if not held or len(held) < 2 or alias.type not in policy.device_types:
            continue
        last = max(held, key=_recency)
        if any(h.cluster_id != last.cluster_id for h in held):
            if narrowed is holders:
                narrowed = dict(holders)
            narrowed[alias.urn] = [h for h in held if h.cluster_id == last.cluster_id]
    return narrowed


def _used(h: Holder) -> datetime:
    return h.last_seen or h.created_at


def identified(cluster_id: str, cluster_urns: dict[str, set[str]], policy: Policy) -> bool:
    """Whether a cluster holds a login identity (the policy's ``handover_types``): the
    person behind a device is known, not only its anonymous use (cases 6b, 6c and 7)."""
    return any(urn_type(u) in policy.handover_types for u in cluster_urns.get(cluster_id, ()))


def device_users(aliases: list[Alias], holders: dict[str, list[Holder]],
                 cluster_urns: dict[str, set[str]], policy: Policy, at: datetime | None,
                 handed: dict[str, Holder] | None = None) -> dict[str, list[Holder]]:
    """Case 6 (a) and (b), for an anonymous write at event time ``at``: each device's
    holders with the later vouched user of a token it handed on, and none at all (a new
    device) for a shared device whose identified last user's session is over."""
    shared = policy.shared_device_own_profile and policy.session_minutes
    if at is None or not (shared or handed) or not aliases or not all(
            a.type in policy.device_types for a in aliases):
        return holders
    out = holders
    window = timedelta(minutes=policy.session_minutes)
    for alias in aliases:
        held = before = holders.get(alias.urn, [])
        user = handed.get(alias.urn) if handed else None
        if user is not None and user.trust.vouched and all(_used(h) < _used(user)
                                                           for h in held):
            held = [*held, user]  # (a) the order says who was at the device
        if shared and len(held) > 1 and any(h.cluster_id != held[0].cluster_id
                                            for h in held):
            last = max(held, key=_recency)
            if _used(last) < at - window and identified(last.cluster_id, cluster_urns,
                                                         policy):
                held = []  # (b) a shared device after its last identified session
        if held is not before:
            if out is holders:
                out = dict(holders)
            out[alias.urn] = held
    return out


def first_login(aliases: list[Alias], holders: dict[str, list[Holder]],
                cluster_urns: dict[str, set[str]], policy: Policy, live: frozenset[str]
                ) -> list[Refusal]:
    """Case 6 (c): the devices, each with its anonymous history's last holder, that this
    login takes the session of but does not join. ``live``: the write's devices whose
    current session has anonymous events and no gap since (``core.batch`` keeps it),
    also when that session is the device's whole use: the device is then shared, so its
    anonymous use after the login's session is no one's until someone logs in on it
    (case 6b)."""
    if not (policy.first_login_session_only and policy.session_minutes and live):
        return []
    logins = [a for a in aliases if a.type in policy.handover_types]
    if not any(holders.get(a.urn) for a in logins):
        return []  # no one holds the identity yet: the device's first person
    if any(a.type in policy.handoff_types for a in aliases):
        return []  # an order through a hand-off token: the token says whose it is
    out = []
    for alias in aliases:
        held = holders.get(alias.urn)
        if alias.urn not in live or alias.type not in policy.device_types or not held:
            continue
        if any(identified(c, cluster_urns, policy) for c in {h.cluster_id for h in held}):
            continue  # someone identified on it: hand-over rules (case 7)
        named = ", ".join(sorted(a.urn for a in logins))
        out.append(Refusal(
            alias.urn, f"first_login: {named} is already known elsewhere and logged in "
            f"during a session on {alias.urn}, which only anonymous use had held: the login "
            "takes that session's events, not the device, whose other anonymous use may be "
            "someone else's",
            RefusalKind.FIRST_LOGIN, max(held, key=_recency).profile_id))
    return out


def device_handover(aliases: list[Alias], holders: dict[str, list[Holder]],
                    cluster_urns: dict[str, set[str]], policy: Policy,
                    performer: Holder | None) -> list[Refusal]:
    """Case 7: the devices this write hands over, each with its current person's holder."""
    if len(aliases) < 2 or not policy.handover_types:
        return []  # an anonymous write names no one
    devices = [a for a in aliases if a.type in policy.device_types and holders.get(a.urn)]
    persons = {h.cluster_id for a in devices for h in holders[a.urn]}
    if len(persons) != 1:
        return []
    person = persons.pop()
    if performer is not None and performer.cluster_id == person:
        return []  # one event id: the same person
    others = [a for a in aliases if a not in devices]
    if any(h.cluster_id == person for a in others for h in holders.get(a.urn, [])):
        return []  # something else in the write is already theirs
    logins = [a for a in others if a.type in policy.handover_types]
    if not logins or not identified(person, cluster_urns, policy):
        return []
    named = ", ".join(sorted(a.urn for a in logins))
    return [Refusal(device.urn, f"device_handover: {named} is not the person this device "
                    f"belonged to ({person}); the device is handed over and does not join "
                    "the two", RefusalKind.HANDOVER,
                    max(holders[device.urn], key=_recency).profile_id)
            for device in devices]


def decide_protected(
    aliases: list[Alias],
    holders: dict[str, list[Holder]],
    clusters: dict[str, ClusterInfo],
    cluster_urns: dict[str, set[str]],
    policy: Policy,
    *,
    cookie_urn: str | None = None,
    performer: Holder | None = None,
    evidence: Evidence = TRUSTED,
    at: datetime | None = None,
    handed: dict[str, Holder] | None = None,
    live: frozenset[str] = frozenset(),
) -> tuple[Decision, list[Alias], list[Refusal]]:
    """:func:`decide` under the trust rule (docs/security.md#the-trust-model) and merge
    protection (docs/identity.md#merge-protection).

    First, a device alias counts only through its current holders (case 6; for an
    anonymous write at event time ``at``, with ``handed``: per device, the latest vouched
    user of a token it handed on), and a write that hands its devices over (case 7), or
    a known person's login in a live session (``live``) on a device only anonymous use
    has held (case 6c), is decided as if they were new. Then an
    untrusted write joins its browser to at most one established person: every alias (and
    a repeated event) that would join another is refused as a bridge, and the write is
    decided again. Then, while the decision would give a cluster more distinct
    values of a type than the policy allows, drop the lowest-priority alias that takes
    part in it (an alias held by a cluster being joined, or a new value of the offending
    type) and decide again, which may start a new profile. A shared event taking part in
    it is given up first, as the weakest evidence. Returns the decision, the aliases
    kept, and what was refused.
    """
    kept = list(aliases)
    refusals = first_login(aliases, holders, cluster_urns, policy, live)
    if refusals:
        holders = {**holders, **{r.alias: [] for r in refusals if r.alias is not None}}
    holders = device_users(aliases, holders, cluster_urns, policy, at, handed)
    everyone = holders
    holders = current_holders(aliases, holders, policy)
    handovers = device_handover(aliases, holders, cluster_urns, policy, performer)
    if handovers:
        # Decided as if the devices were new to the graph, except that a person who held
        # one before gets it back on their own profile of it (a repeat adds no profile).
        refusals.extend(handovers)
        moved = {h.alias for h in handovers}
        named = {h.cluster_id for a in aliases if a.urn not in moved
                 for h in holders.get(a.urn, [])}
        holders = dict(holders)
        for urn in moved:
            back = [h for h in everyone[urn] if h.cluster_id in named]
            if back:  # one person's holding only: the device itself never joins two
                last = max(back, key=_recency).cluster_id
                back = [h for h in back if h.cluster_id == last]
            holders[urn] = back
    while True:
        cookie = cookie_urn if any(a.urn == cookie_urn for a in kept) else None
        decision = decide(kept, holders, clusters, policy, cookie_urn=cookie, performer=performer,
                          evidence=evidence)
        bridged = _bridged(decision, clusters, policy, evidence)
        if bridged:
            reason = "bridge: an untrusted write may not join two established people"
            event_refused = performer is not None and performer.cluster_id in bridged
            if event_refused:
                refusals.append(Refusal(None, reason, RefusalKind.BRIDGE))
                performer = None
            bridging = [a for a in kept if a.urn != cookie and any(
                h.cluster_id in bridged for h in holders.get(a.urn, []))]
            for alias in bridging:
                kept.remove(alias)
                refusals.append(Refusal(alias.urn, reason, RefusalKind.BRIDGE))
            if not bridging and not event_refused and cookie is not None:
                # only the device joins them: decided as if it were new
                holders = {**holders, cookie: []}
            continue
        offending = _over_limit(decision, kept, cluster_urns, policy)
        if offending is None:
            return decision, kept, refusals
        reason = f"limit:{offending}"
        if performer is not None and any(k.reason == "shared_event" for k in decision.links):
            # A shared event is the weakest evidence: give it up before any alias.
            refusals.append(Refusal(None, reason))
            performer = None
            continue
        involved = {link.to_cluster for link in decision.links} | {decision.cluster_id}
        own = cluster_urns.get(decision.cluster_id or "", set())
        culprits = [
            a for a in kept
            if any(h.cluster_id in involved for h in holders.get(a.urn, []))
            or (a.type == offending and a.urn not in own)
        ]
        if culprits:
            weakest_alias = max(culprits, key=lambda a: (policy.rank(a.type), a.urn))
            kept.remove(weakest_alias)
            refusals.append(Refusal(weakest_alias.urn, reason))
        else:  # nothing left to drop: take the decision without links
            decision.links.clear()
            decision.losers.clear()
            decision.winner = decision.cluster_id
            return decision, kept, refusals


class SessionRole(StrEnum):
    LOGIN = "login"  # carries a login identity: takes its devices' sessions, ends them
    ANONYMOUS = "anonymous"  # devices only: its event joins their sessions
    OTHER = "other"  # neither (another identifier): the sessions are left as they are


def session_role(aliases: list[Alias], policy: Policy) -> SessionRole:
    """Case 10: what a write (its kept aliases) is to its devices' sessions."""
    if any(a.type in policy.handover_types for a in aliases):
        return SessionRole.LOGIN
    if all(a.type in policy.device_types for a in aliases):
        return SessionRole.ANONYMOUS
    return SessionRole.OTHER


def session_moves(session: list[tuple[str, Holder]], cluster_id: str
                  ) -> list[tuple[str, Holder]]:
    """Case 10: the events of a login's session (event id, performer) that go to the login's
    profile: those performed by anyone outside the login's cluster (the login's own
    person's stay where they are)."""
    return [(eid, performer) for eid, performer in session if performer.cluster_id != cluster_id]
