"""Identity decisions (docs/identity.md#the-write-algorithm), given a neighbourhood."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import networkx as nx
import pytest

from converge_graph.core.aliases import Alias
from converge_graph.core.policy import Policy
from converge_graph.core.resolver import (
    ClusterInfo,
    Evidence,
    Holder,
    Refusal,
    RefusalKind,
    decide,
    decide_protected,
)
from converge_graph.core.trust import Trust

POLICY = Policy()
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def a(urn: str) -> Alias:
    _, kind, value = urn.split(":", 2)
    return Alias(urn, kind, value)


def h(profile: str, cluster: str, minute: int = 0) -> Holder:
    return Holder(profile, cluster, T0 + timedelta(minutes=minute))


def c(cluster: str, size: int = 1, minute: int = 0) -> ClusterInfo:
    return ClusterInfo(cluster, size, T0 + timedelta(minutes=minute))


def clusters_of(holders: dict[str, list[Holder]], **sizes: int) -> dict[str, ClusterInfo]:
    ids = {x.cluster_id for hs in holders.values() for x in hs}
    return {cid: c(cid, sizes.get(cid, 1)) for cid in ids}


# -- which profile a write lands on ------------------------------------------------------


def test_new_aliases_start_a_new_profile_in_a_new_cluster():
    d = decide([a("urn:email:jane@shop.com")], {}, {}, POLICY)
    assert (d.profile_id, d.cluster_id, d.links, d.winner, d.losers) == (None, None, [], None, [])


def test_webhook_write_without_aliases_starts_a_new_profile():
    d = decide([], {}, {}, POLICY)
    assert d.profile_id is None and d.links == []


def test_webhook_write_lands_on_highest_priority_holder_oldest_on_tie():
    holders = {
        "urn:email:jane@shop.com": [h("p-email", "c1", minute=0)],
        "urn:customer_id:42": [h("p-new", "c2", minute=9), h("p-old", "c2", minute=3)],
        "urn:user_id:u7": [h("p-user", "c2", minute=5)],
    }
    aliases = [a(u) for u in holders]
    d = decide(aliases, holders, clusters_of(holders), POLICY)
    # customer_id and user_id share the top rank; p-old is the oldest of their holders
    assert d.profile_id == "p-old"
    assert d.cluster_id == "c2"


def test_tie_on_creation_time_is_broken_by_profile_id():
    holders = {"urn:customer_id:42": [h("p-b", "c1"), h("p-a", "c1")]}
    d = decide([a("urn:customer_id:42")], holders, clusters_of(holders), POLICY)
    assert d.profile_id == "p-a"


def test_webhook_write_ignores_aliases_nobody_holds_when_choosing():
    holders = {"urn:cart:c1": [h("p-cart", "c1")]}
    aliases = [a("urn:customer_id:42"), a("urn:cart:c1")]
    assert decide(aliases, holders, clusters_of(holders), POLICY).profile_id == "p-cart"


def test_priority_order_is_taken_from_the_policy():
    holders = {"urn:email:j@s.com": [h("p-email", "c1")], "urn:loyalty:9": [h("p-loyal", "c2")]}
    aliases = [a(u) for u in holders]
    flipped = Policy(priority={"loyalty": 0, "email": 1})
    assert decide(aliases, holders, clusters_of(holders), POLICY).profile_id == "p-email"
    assert decide(aliases, holders, clusters_of(holders), flipped).profile_id == "p-loyal"


def test_browser_write_lands_on_its_cookie_profile_whatever_else_is_held():
    holders = {
        "urn:cookie:laptop": [h("p-laptop", "c-laptop", minute=5)],
        "urn:customer_id:42": [h("p-server", "c-server", minute=1)],
    }
    aliases = [a(u) for u in holders]
    d = decide(aliases, holders, clusters_of(holders), POLICY, cookie_urn="urn:cookie:laptop")
    assert d.profile_id == "p-laptop"
    assert [(x.to_profile, x.via, x.reason) for x in d.links] == [
        ("p-server", ["urn:customer_id:42"], "shared_alias")]


def test_browser_write_with_a_new_cookie_starts_a_profile_even_if_its_email_is_known():
    holders = {"urn:email:jane@shop.com": [h("p-known", "c1")]}
    aliases = [a("urn:cookie:fresh"), a("urn:email:jane@shop.com")]
    d = decide(aliases, holders, clusters_of(holders), POLICY, cookie_urn="urn:cookie:fresh")
    assert d.profile_id is None
    assert [x.to_profile for x in d.links] == ["p-known"]
    assert d.winner == "c1"  # the new profile joins the known person's cluster


# -- SAME_AS links ---------------------------------------------------------------------


def test_one_link_per_joined_cluster_not_per_holder():
    holders = {
        "urn:email:jane@shop.com": [h(f"p{i}", "c-big", minute=i) for i in range(5)],
        "urn:phone:+14155552671": [h("p3", "c-big", minute=3)],
        "urn:cart:k": [h("q1", "c-other", minute=1), h("q2", "c-other", minute=2)],
    }
    aliases = [a(u) for u in holders] + [a("urn:cookie:new")]
    d = decide(aliases, holders, clusters_of(holders), POLICY, cookie_urn="urn:cookie:new")
    assert sorted(x.to_cluster for x in d.links) == ["c-big", "c-other"]


def test_link_evidence_lists_every_alias_shared_with_that_cluster():
    holders = {
        "urn:email:jane@shop.com": [h("p1", "c1")],
        "urn:phone:+14155552671": [h("p2", "c1", minute=1)],
    }
    aliases = [a("urn:cookie:new"), *(a(u) for u in holders)]
    d = decide(aliases, holders, clusters_of(holders), POLICY, cookie_urn="urn:cookie:new")
    (link,) = d.links
    assert link.via == ["urn:email:jane@shop.com", "urn:phone:+14155552671"]
    assert link.reason == "shared_alias"


def test_link_goes_to_oldest_holder_of_the_strongest_shared_alias():
    holders = {
        "urn:cart:k": [h("p-cart", "c1", minute=0)],
        "urn:email:jane@shop.com": [h("p-mail-new", "c1", minute=8), h("p-mail", "c1", minute=4)],
    }
    aliases = [a("urn:cookie:new"), *(a(u) for u in holders)]
    d = decide(aliases, holders, clusters_of(holders), POLICY, cookie_urn="urn:cookie:new")
    assert [x.to_profile for x in d.links] == ["p-mail"]


def test_aliases_already_in_the_own_cluster_add_no_link():
    holders = {
        "urn:customer_id:42": [h("p1", "c1")],
        "urn:email:jane@shop.com": [h("p2", "c1", minute=1)],
    }
    d = decide([a(u) for u in holders], holders, clusters_of(holders), POLICY)
    assert d.profile_id == "p1"
    assert d.links == [] and d.losers == []


def test_links_come_in_a_stable_order():
    holders = {f"urn:cart:{k}": [h(f"p{k}", f"c{k}")] for k in "dbca"}
    aliases = [a("urn:cookie:new"), *(a(u) for u in holders)]
    d = decide(aliases, holders, clusters_of(holders), POLICY, cookie_urn="urn:cookie:new")
    assert [x.to_cluster for x in d.links] == ["ca", "cb", "cc", "cd"]


# -- the same event reported twice ---------------------------------------------------------


def test_duplicate_event_joins_the_original_performer_with_shared_event():
    holders = {"urn:cookie:checkout": [h("p-browser", "c-browser")]}
    clusters = {"c-browser": c("c-browser"), "c-server": c("c-server", size=2)}
    d = decide([a("urn:cookie:checkout")], holders, clusters, POLICY,
               cookie_urn="urn:cookie:checkout", performer=h("p-server", "c-server"))
    assert [(x.to_profile, x.via, x.reason) for x in d.links] == [("p-server", [], "shared_event")]
    assert (d.winner, d.losers) == ("c-server", ["c-browser"])


def test_duplicate_event_adds_no_second_link_when_an_alias_already_joins_that_cluster():
    holders = {"urn:customer_id:42": [h("p-server", "c-server")]}
    clusters = {"c-server": c("c-server")}
    d = decide([a("urn:cookie:new"), a("urn:customer_id:42")], holders, clusters, POLICY,
               cookie_urn="urn:cookie:new", performer=h("p-server", "c-server"))
    assert [x.reason for x in d.links] == ["shared_alias"]


def test_duplicate_event_from_the_same_person_adds_nothing():
    holders = {"urn:customer_id:42": [h("p1", "c1")]}
    d = decide([a("urn:customer_id:42")], holders, clusters_of(holders), POLICY,
               performer=h("p1", "c1"))
    assert d.links == [] and d.losers == []


# -- union by size ---------------------------------------------------------------------------


def test_union_by_size_keeps_larger_cluster_id():
    holders = {
        "urn:customer_id:42": [h("p-small", "c-small")],
        "urn:email:jane@shop.com": [h("p-big", "c-big")],
    }
    clusters = {"c-small": c("c-small", size=1), "c-big": c("c-big", size=7)}
    d = decide([a(u) for u in holders], holders, clusters, POLICY)
    assert d.profile_id == "p-small"  # the write still lands by priority
    assert (d.winner, d.losers) == ("c-big", ["c-small"])


def test_union_of_equal_sizes_keeps_the_oldest_cluster_id():
    holders = {"urn:cart:1": [h("p1", "c-young")], "urn:cart:2": [h("p2", "c-old")]}
    clusters = {"c-young": c("c-young", 2, minute=9), "c-old": c("c-old", 2, minute=1)}
    d = decide([a("urn:cookie:x"), *(a(u) for u in holders)], holders, clusters, POLICY,
               cookie_urn="urn:cookie:x")
    assert (d.winner, d.losers) == ("c-old", ["c-young"])


def test_three_way_union_lists_every_loser_once():
    holders = {f"urn:cart:{i}": [h(f"p{i}", f"c{i}")] for i in range(3)}
    clusters = {"c0": c("c0", 1), "c1": c("c1", 5), "c2": c("c2", 3)}
    d = decide([a("urn:cookie:x"), *(a(u) for u in holders)], holders, clusters, POLICY,
               cookie_urn="urn:cookie:x")
    assert d.winner == "c1" and sorted(d.losers) == ["c0", "c2"]


# -- many writes: clusters are connected components ------------------------------------------


class World:
    """An in-memory store applying decisions the way the service does."""

    def __init__(self) -> None:
        self.cluster: dict[str, str] = {}
        self.created: dict[str, datetime] = {}
        self.cluster_created: dict[str, datetime] = {}
        self.held: dict[str, list[str]] = {}
        self.links: list[tuple[str, str]] = []
        self.performer: dict[str, str] = {}
        self.ids = itertools.count()
        self.clock = itertools.count()

    def now(self) -> datetime:
        return T0 + timedelta(seconds=next(self.clock))

    def holder(self, pid: str) -> Holder:
        return Holder(pid, self.cluster[pid], self.created[pid])

    def write(self, urns: list[str], cookie: str | None, event: str | None) -> str:
        aliases = sorted(a(u) for u in urns)
        holders = {u: [self.holder(p) for p in self.held[u]] for u in urns if u in self.held}
        performer = self.holder(self.performer[event]) if event in self.performer else None
        involved = {x.cluster_id for hs in holders.values() for x in hs}
        if performer:
            involved.add(performer.cluster_id)
        sizes = {cid: sum(1 for v in self.cluster.values() if v == cid) for cid in involved}
        clusters = {cid: ClusterInfo(cid, sizes[cid], self.cluster_created[cid])
                    for cid in involved}
        d = decide(aliases, holders, clusters, POLICY, cookie_urn=cookie, performer=performer)
        now = self.now()
        pid = d.profile_id
        cid = d.winner or f"c{next(self.ids)}"
        self.cluster_created.setdefault(cid, now)
        if pid is None:
            pid = f"p{next(self.ids)}"
            self.cluster[pid], self.created[pid] = cid, now
        self.links += [(pid, link.to_profile) for link in d.links]
        for other, oc in list(self.cluster.items()):
            if oc in d.losers:
                self.cluster[other] = cid
        for u in urns:
            if pid not in self.held.setdefault(u, []):
                self.held[u].append(pid)
        if event is not None:
            self.performer.setdefault(event, pid)
        return pid


@pytest.mark.parametrize("seed", range(25))
def test_clusters_equal_connected_components_after_random_writes(seed):
    rng = random.Random(seed)
    pool = ([f"urn:email:u{i}@shop.com" for i in range(12)]
            + [f"urn:customer_id:{i}" for i in range(8)] + [f"urn:cart:k{i}" for i in range(10)])
    world, evidence = World(), nx.Graph()
    for _ in range(60):
        urns = rng.sample(pool, rng.randint(0, 3))
        cookie = f"urn:cookie:b{rng.randrange(15)}" if rng.random() < 0.5 else None
        event = f"e{rng.randrange(20)}" if rng.random() < 0.3 else None
        pid = world.write([*urns, cookie] if cookie else urns, cookie, event)
        evidence.add_node(pid)
        for u in [*urns, cookie] if cookie else urns:
            evidence.add_edge(pid, u)
        if event is not None:
            evidence.add_edge(pid, ("event", event))

    def partition(groups) -> set[frozenset[str]]:
        return {frozenset(p for p in g if p in world.cluster) for g in groups} - {frozenset()}

    by_id: dict[str, set[str]] = {}
    for pid, cid in world.cluster.items():
        by_id.setdefault(cid, set()).add(pid)
    expected = partition(nx.connected_components(evidence))
    assert partition(by_id.values()) == expected

    same_as = nx.Graph(world.links)
    same_as.add_nodes_from(world.cluster)
    assert partition(nx.connected_components(same_as)) == expected
    # a spanning forest: SAME_AS edges grow with profiles, never with alias sharing
    assert len(world.links) == len(world.cluster) - len(by_id)


# -- merge protection (docs/identity.md#merge-protection) ------------------------------------------


def test_a_second_customer_id_does_not_merge_and_its_weaker_alias_is_dropped():
    holders = {"urn:email:jane@shop.com": [h("p1", "c1")]}
    urns = {"c1": {"urn:customer_id:1", "urn:email:jane@shop.com"}}
    aliases = [a("urn:customer_id:2"), a("urn:email:jane@shop.com")]
    d, kept, refused = decide_protected(aliases, holders, clusters_of(holders), urns, POLICY)
    assert d.profile_id is None and d.links == []  # resolved again: a new profile
    assert [x.urn for x in kept] == ["urn:customer_id:2"]
    assert refused == [Refusal("urn:email:jane@shop.com", "limit:customer_id")]


def test_a_cluster_may_hold_five_emails_but_not_six():
    five = {f"urn:email:u{i}@shop.com" for i in range(5)}
    holders = {"urn:customer_id:1": [h("p1", "c1")]}
    write = [a("urn:customer_id:1"), a("urn:email:new@shop.com")]
    d, kept, refused = decide_protected(write, holders, clusters_of(holders),
                                        {"c1": {"urn:customer_id:1", *sorted(five)[:4]}}, POLICY)
    assert d.profile_id == "p1" and refused == []
    d, kept, refused = decide_protected(write, holders, clusters_of(holders),
                                        {"c1": {"urn:customer_id:1", *five}}, POLICY)
    assert d.profile_id == "p1"  # the write still lands on the customer
    assert refused == [Refusal("urn:email:new@shop.com", "limit:email")]
    assert [x.urn for x in kept] == ["urn:customer_id:1"]


def test_cookies_are_unlimited():
    cookies = {f"urn:cookie:b{i}" for i in range(40)}
    holders = {"urn:customer_id:1": [h("p1", "c1")]}
    write = [a("urn:cookie:b99"), a("urn:customer_id:1")]
    d, _, refused = decide_protected(write, holders, clusters_of(holders),
                                     {"c1": {"urn:customer_id:1", *cookies}}, POLICY,
                                     cookie_urn="urn:cookie:b99")
    assert refused == [] and [x.to_profile for x in d.links] == ["p1"]


def test_a_cluster_already_over_a_limit_still_takes_writes_adding_none_of_that_type():
    holders = {"urn:customer_id:1": [h("p1", "c1")]}
    urns = {"c1": {"urn:customer_id:1", "urn:customer_id:2"}}  # from a looser, older policy
    d, _, refused = decide_protected([a("urn:customer_id:1"), a("urn:cart:k")], holders,
                                     clusters_of(holders), urns, POLICY)
    assert d.profile_id == "p1" and refused == []


def test_a_shared_event_that_would_break_a_limit_is_not_linked():
    holders = {"urn:customer_id:2": [h("p-two", "c2")]}
    clusters = {"c1": c("c1"), "c2": c("c2")}
    urns = {"c1": {"urn:customer_id:1"}, "c2": {"urn:customer_id:2"}}
    d, kept, refused = decide_protected([a("urn:customer_id:2")], holders, clusters, urns,
                                        POLICY, performer=h("p-one", "c1"))
    assert d.profile_id == "p-two" and d.links == [] and d.losers == []
    assert refused == [Refusal(None, "limit:customer_id")]
    assert [x.urn for x in kept] == ["urn:customer_id:2"]


def test_without_limits_protection_decides_exactly_like_plain_linking():
    loose = Policy(limits={}, default_limit=None)
    holders = {"urn:customer_id:1": [h("p1", "c1")], "urn:customer_id:2": [h("p2", "c2")]}
    urns = {"c1": {"urn:customer_id:1"}, "c2": {"urn:customer_id:2"}}
    aliases = [a(u) for u in holders]
    d, kept, refused = decide_protected(aliases, holders, clusters_of(holders), urns, loose)
    assert refused == [] and kept == aliases
    assert d == decide(aliases, holders, clusters_of(holders), loose)


# -- the trust rule (docs/security.md#the-trust-model) ----------------------------------

BROWSER = Evidence(trusted=False)


def claim(profile: str, cluster: str, minute: int = 0) -> Holder:
    return Holder(profile, cluster, T0 + timedelta(minutes=minute), Trust.CLAIM)


def test_a_trusted_write_never_lands_on_a_profile_that_only_claims_its_alias():
    holders = {"urn:customer_id:5001": [claim("p-attacker", "c-attacker")]}
    d = decide([a("urn:customer_id:5001")], holders, clusters_of(holders), POLICY)
    assert d.profile_id is None  # a new profile, not the squatter's
    assert [(k.to_profile, k.trust) for k in d.links] == [("p-attacker", Trust.CLAIM)]


def test_a_trusted_write_lands_on_the_vouched_holder_even_when_a_claim_is_older():
    holders = {"urn:email:jane@shop.com": [claim("p-squat", "c1", minute=0),
                                           h("p-jane", "c1", minute=5)]}
    d = decide([a("urn:email:jane@shop.com")], holders, clusters_of(holders), POLICY)
    assert d.profile_id == "p-jane"


def test_a_trusted_write_repeating_a_claimed_event_does_not_land_on_its_performer():
    performer = claim("p-squat", "c-squat")
    d = decide([], {}, {"c-squat": c("c-squat")}, POLICY, performer=performer,
               evidence=Evidence(event=Trust.CLAIM))
    assert d.profile_id is None
    assert [(k.reason, k.trust) for k in d.links] == [("shared_event", Trust.CLAIM)]


def test_a_browser_write_never_becomes_the_profile_holding_its_email():
    holders = {"urn:email:jane@shop.com": [h("p-jane", "c-jane")]}
    d = decide([a("urn:email:jane@shop.com")], holders, clusters_of(holders), POLICY,
               evidence=BROWSER)
    assert d.profile_id is None
    assert [(k.to_profile, k.trust) for k in d.links] == [("p-jane", Trust.CLAIM)]


def test_a_signed_alias_links_with_signed_trust():
    holders = {"urn:customer_id:7": [h("p-7", "c-7")]}
    evidence = Evidence(trusted=False, aliases={"urn:customer_id:7": Trust.SIGNED})
    d = decide([a("urn:customer_id:7")], holders, clusters_of(holders), POLICY,
               evidence=evidence)
    assert [k.trust for k in d.links] == [Trust.SIGNED]


def test_a_browser_write_attaches_to_one_established_person_and_never_bridges_two():
    holders = {f"urn:email:{n}@shop.com": [h(f"p-{n}", f"c-{n}", minute=i)]
               for i, n in enumerate("abc")}
    aliases = [a(u) for u in holders] + [a("urn:cookie:x")]
    clusters = {f"c-{n}": c(f"c-{n}", minute=i) for i, n in enumerate("abc")}
    d, kept, refused = decide_protected(aliases, holders, clusters, {}, POLICY,
                                        cookie_urn="urn:cookie:x", evidence=BROWSER)
    assert [k.to_cluster for k in d.links] == ["c-a"]  # same rank: the oldest person
    assert {r.alias for r in refused} == {"urn:email:b@shop.com", "urn:email:c@shop.com"}
    assert {r.kind for r in refused} == {RefusalKind.BRIDGE}
    assert "urn:cookie:x" in [k.urn for k in kept]


def test_a_browser_already_attached_to_a_person_stays_with_them():
    holders = {"urn:cookie:x": [claim("p-x", "c-a")],
               "urn:email:b@shop.com": [h("p-b", "c-b")]}
    clusters = {"c-a": c("c-a"), "c-b": c("c-b")}
    d, _, refused = decide_protected([a("urn:cookie:x"), a("urn:email:b@shop.com")], holders,
                                     clusters, {}, POLICY, cookie_urn="urn:cookie:x",
                                     evidence=BROWSER)
    assert d.links == [] and d.winner == "c-a"
    assert [r.alias for r in refused] == ["urn:email:b@shop.com"]


def test_a_browser_may_join_anonymous_browsers_and_one_person():
    holders = {"urn:checkout:k1": [claim("p-anon", "c-anon")],
               "urn:email:a@shop.com": [h("p-a", "c-a")]}
    clusters = {"c-anon": ClusterInfo("c-anon", 1, T0, established=False), "c-a": c("c-a")}
    d, _, refused = decide_protected([a(u) for u in holders], holders, clusters, {}, POLICY,
                                     evidence=BROWSER)
    assert {k.to_cluster for k in d.links} == {"c-anon", "c-a"} and refused == []


def test_a_trusted_write_may_join_two_established_people():
    holders = {"urn:email:a@shop.com": [h("p-a", "c-a")],
               "urn:phone:+14155552671": [h("p-b", "c-b")]}
    clusters = {"c-a": c("c-a"), "c-b": c("c-b")}
    d, _, refused = decide_protected([a(u) for u in holders], holders, clusters, {}, POLICY)
    assert len(d.links) == 1 and refused == []


# -- device hand-over (docs/identity.md#device-hand-over) --------------------------------

LAPTOP = "urn:cookie:family-laptop"


def seen(profile: str, cluster: str, minute: int, trust: Trust = Trust.CLAIM) -> Holder:
    """A holder of a device whose attachment was last used at ``minute``."""
    return Holder(profile, cluster, T0 + timedelta(minutes=minute), trust,
                  T0 + timedelta(minutes=minute))


def test_family_laptop_a_second_login_hands_the_device_over_and_joins_no_one():
    holders = {LAPTOP: [seen("p-mum", "c-mum", 1)],
               "urn:customer_id:kid": [h("p-kid", "c-kid")]}
    urns = {"c-mum": {"urn:email:mum@x.com"}, "c-kid": {"urn:customer_id:kid"}}
    signed = Evidence(trusted=False, aliases={"urn:customer_id:kid": Trust.SIGNED})
    d, kept, refused = decide_protected(
        [a(LAPTOP), a("urn:customer_id:kid")], holders, clusters_of(holders), urns, POLICY,
        cookie_urn=LAPTOP, evidence=signed)
    assert d.profile_id is None  # a browser never becomes the backend's profile
    assert [k.to_cluster for k in d.links] == ["c-kid"] and d.winner == "c-kid"
    assert [(r.alias, r.kind, r.other_profile) for r in refused] == [
        (LAPTOP, RefusalKind.HANDOVER, "p-mum")]
    assert LAPTOP in [k.urn for k in kept]  # the laptop is attached to the kid's side


def test_family_laptop_as_the_backend_reports_it_lands_on_the_second_customer():
    holders = {LAPTOP: [seen("p-mum", "c-mum", 1, Trust.TRUSTED)],
               "urn:customer_id:kid": [h("p-kid", "c-kid")]}
    urns = {"c-mum": {"urn:customer_id:mum"}, "c-kid": {"urn:customer_id:kid"}}
    d, _, refused = decide_protected([a(LAPTOP), a("urn:customer_id:kid")], holders,
                                     clusters_of(holders), urns, POLICY)
    assert (d.profile_id, d.links, d.losers) == ("p-kid", [], [])
    assert [r.kind for r in refused] == [RefusalKind.HANDOVER]


def test_after_a_hand_over_anonymous_activity_follows_the_most_recent_login():
    holders = {LAPTOP: [seen("p-mum", "c-mum", 1), seen("p-kid", "c-kid", 9)]}
    urns = {"c-mum": {"urn:email:mum@x.com"}, "c-kid": {"urn:customer_id:kid"}}
    d, _, refused = decide_protected([a(LAPTOP)], holders, clusters_of(holders), urns, POLICY,
                                     cookie_urn=LAPTOP, evidence=BROWSER)
    assert (d.profile_id, d.links, refused) == ("p-kid", [], [])
    # Mum logs in again: the laptop is handed back, still without joining the two.
    holders["urn:email:mum@x.com"] = [h("p-mum", "c-mum")]
    d, _, refused = decide_protected([a(LAPTOP), a("urn:email:mum@x.com")], holders,
                                     clusters_of(holders), urns, POLICY)
    assert (d.profile_id, d.links) == ("p-mum", [])
    assert [(r.kind, r.other_profile) for r in refused] == [(RefusalKind.HANDOVER, "p-kid")]


def test_a_couple_sharing_a_tablet_each_typing_an_email_stay_two_people():
    holders = {"urn:cookie:tablet": [seen("p-her", "c-her", 1)]}
    urns = {"c-her": {"urn:email:her@x.com"}}
    d, _, refused = decide_protected([a("urn:cookie:tablet"), a("urn:email:him@x.com")],
                                     holders, clusters_of(holders), urns, POLICY,
                                     cookie_urn="urn:cookie:tablet", evidence=BROWSER)
    assert (d.profile_id, d.links, d.winner) == (None, [], None)  # his own new profile
    assert [(r.alias, r.other_profile) for r in refused] == [("urn:cookie:tablet", "p-her")]


def test_one_person_with_two_emails_on_one_device_is_joined_by_a_server_event_naming_both():
    holders = {"urn:cookie:phone": [seen("p-work", "c-work", 1)]}
    urns = {"c-work": {"urn:email:jo@work.com"}}
    d, _, refused = decide_protected([a("urn:cookie:phone"), a("urn:email:jo@home.com")],
                                     holders, clusters_of(holders), urns, POLICY,
                                     cookie_urn="urn:cookie:phone", evidence=BROWSER)
    assert d.links == [] and [r.kind for r in refused] == [RefusalKind.HANDOVER]
    # Later the backend reports one order with both emails: that says "same person".
    holders = {"urn:email:jo@work.com": [h("p-work", "c-work")],
               "urn:email:jo@home.com": [h("p-home", "c-home")]}
    urns["c-home"] = {"urn:email:jo@home.com"}
    d, _, refused = decide_protected([a(u) for u in holders], holders, clusters_of(holders),
                                     urns, POLICY)
    assert len(d.links) == 1 and refused == []
    assert {d.winner, *d.losers} == {"c-work", "c-home"}


def test_a_guest_who_only_browses_stays_on_the_devices_person():
    holders = {LAPTOP: [seen("p-mum", "c-mum", 1)]}
    urns = {"c-mum": {"urn:email:mum@x.com"}}
    d, _, refused = decide_protected([a(LAPTOP)], holders, clusters_of(holders), urns, POLICY,
                                     cookie_urn=LAPTOP, evidence=BROWSER)
    assert (d.profile_id, refused) == ("p-mum", [])  # nothing in it tells the two apart


def test_one_event_id_says_same_person_keeps_the_device_and_joins():
    holders = {LAPTOP: [seen("p-mum", "c-mum", 1)]}
    urns = {"c-mum": {"urn:email:mum@x.com"}}
    d, _, refused = decide_protected([a(LAPTOP), a("urn:email:mum.other@x.com")], holders,
                                     clusters_of(holders), urns, POLICY, cookie_urn=LAPTOP,
                                     performer=h("p-mum", "c-mum"), evidence=BROWSER)
    assert d.profile_id == "p-mum" and refused == []


# The cart a device hands to the checkout domain: `set` + urn:checkout on the shop's page,
# then the order on the checkout page (its own cookie) with the email typed there.
TOKEN = "urn:checkout:T1"
CHECKOUT_PAGE = "urn:cookie:checkout-page"


def test_a_cart_handed_on_from_a_guests_session_does_not_join_the_owners_order_to_the_guest():
    # The kid logged in on mum's laptop; mum, later, checks out from it. The cart and the
    # checkout page's cookie belong to the laptop's current person (the kid) — the order's
    # email is mum's, so the cart is handed over with the laptop, not used to join them.
    holders = {TOKEN: [seen("p-kid", "c-kid", 5)], CHECKOUT_PAGE: [seen("p-kid", "c-kid", 5)],
               "urn:email:mum@x.com": [h("p-mum", "c-mum")]}
    urns = {"c-kid": {"urn:customer_id:kid"}, "c-mum": {"urn:email:mum@x.com"}}
    d, kept, refused = decide_protected(
        [a(CHECKOUT_PAGE), a(TOKEN), a("urn:email:mum@x.com")], holders, clusters_of(holders),
        urns, POLICY)
    assert (d.profile_id, d.links, d.losers) == ("p-mum", [], [])
    assert sorted((r.alias, r.kind, r.other_profile) for r in refused) == [
        (TOKEN, RefusalKind.HANDOVER, "p-kid"), (CHECKOUT_PAGE, RefusalKind.HANDOVER, "p-kid")]
    assert {TOKEN, CHECKOUT_PAGE} <= {k.urn for k in kept}  # now mum's: later writes follow


def test_a_cart_from_an_anonymous_device_joins_the_order_that_names_its_buyer():
    holders = {TOKEN: [seen("p-anon", "c-anon", 5)], "urn:email:jo@x.com": [h("p-jo", "c-jo")]}
    urns = {"c-anon": set(), "c-jo": {"urn:email:jo@x.com"}}
    d, _, refused = decide_protected([a(TOKEN), a("urn:email:jo@x.com")], holders,
                                     clusters_of(holders), urns, POLICY)
    assert [k.to_cluster for k in d.links] == ["c-anon"] and refused == []


def test_the_backends_order_naming_the_account_and_the_cart_is_the_same_person():
    holders = {TOKEN: [seen("p-mum", "c-mum", 5)], "urn:customer_id:mum": [h("p-mum", "c-mum")]}
    urns = {"c-mum": {"urn:customer_id:mum", "urn:email:mum@x.com"}}
    d, _, refused = decide_protected(
        [a(TOKEN), a("urn:customer_id:mum"), a("urn:email:mum.other@x.com")], holders,
        clusters_of(holders), urns, POLICY)
    assert d.profile_id == "p-mum" and refused == []


def test_checkout_tokens_are_devices_by_policy_and_join_as_before_when_they_are_not():
    holders = {TOKEN: [seen("p-kid", "c-kid", 5)], "urn:email:mum@x.com": [h("p-mum", "c-mum")]}
    urns = {"c-kid": {"urn:customer_id:kid"}, "c-mum": {"urn:email:mum@x.com"}}
    write = [a(TOKEN), a("urn:email:mum@x.com")]
    for policy, handed in ((POLICY, True),
                           (Policy(device_types=["cookie", "anonymous_id"]), False)):
        d, _, refused = decide_protected(write, holders, clusters_of(holders), urns, policy)
        assert bool(refused) is handed
        assert (d.links == []) is handed


def test_a_first_login_on_an_anonymous_device_is_no_hand_over():
    holders = {LAPTOP: [seen("p-anon", "c-anon", 1)]}
    d, _, refused = decide_protected([a(LAPTOP), a("urn:email:new@x.com")], holders,
                                     clusters_of(holders), {"c-anon": set()}, POLICY,
                                     cookie_urn=LAPTOP, evidence=BROWSER)
    assert (d.profile_id, refused) == ("p-anon", [])


def test_hand_over_is_policy_per_type_and_off_when_no_type_counts():
    holders = {LAPTOP: [seen("p-mum", "c-mum", 1)]}
    urns = {"c-mum": {"urn:email:mum@x.com"}}
    write = [a(LAPTOP), a("urn:phone:+14155550100")]
    for policy, handed in ((POLICY, True),
                           (Policy(handover_types=["customer_id", "email"]), False),
                           (Policy(handover_types=[]), False)):
        d, _, refused = decide_protected(write, holders, clusters_of(holders), urns, policy,
                                         cookie_urn=LAPTOP, evidence=BROWSER)
        assert bool(refused) is handed
        assert d.profile_id == (None if handed else "p-mum")


def test_a_browser_handed_back_lands_on_its_earlier_profile_of_that_person():
    holders = {LAPTOP: [seen("p-mum-laptop", "c-mum", 1), seen("p-kid-laptop", "c-kid", 9)],
               "urn:email:mum@x.com": [h("p-mum", "c-mum"), claim("p-mum-laptop", "c-mum")]}
    urns = {"c-mum": {"urn:email:mum@x.com"}, "c-kid": {"urn:email:kid@x.com"}}
    d, _, refused = decide_protected([a(LAPTOP), a("urn:email:mum@x.com")], holders,
                                     clusters_of(holders), urns, POLICY, cookie_urn=LAPTOP,
                                     evidence=BROWSER)
    assert (d.profile_id, d.links) == ("p-mum-laptop", [])  # no new profile on a repeat
    assert [(r.kind, r.other_profile) for r in refused] == [
        (RefusalKind.HANDOVER, "p-kid-laptop")]
