"""The batch replay (core/batch.Overlay) without Neo4j: a neighbourhood in, results and a
Delta out — what the store would write (docs/identity.md#the-write-algorithm)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from converge_graph.core.aliases import Alias
from converge_graph.core.batch import AliasState, EventState, Neighbourhood, Overlay, Prepared
from converge_graph.core.policy import Policy
from converge_graph.core.resolver import ClusterInfo

T0 = datetime(2024, 1, 1, tzinfo=UTC)
NOW = T0 + timedelta(days=1)


def alias(urn: str) -> Alias:
    _, kind, value = urn.split(":", 2)
    return Alias(urn, kind, value)


def write(*urns: str, event_id: str | None = None, cookie: str | None = None,
          props: dict | None = None, source: str = "src_hook", minute: int = 0) -> Prepared:
    aliases = [alias(u) for u in urns]
    cookie_urn = None
    if cookie:
        cookie_urn = f"urn:cookie:{cookie}"
        aliases.append(alias(cookie_urn))
    return Prepared(
        source_id=source, method="track" if event_id else "set", event_name="E" if event_id
        else None, properties={}, profile_properties=props or {},
        aliases=sorted(aliases), cookie_urn=cookie_urn, event_id=event_id,
        ts=T0 + timedelta(minutes=minute), ignored=[],
    )


def neighbourhood(writes: list[Prepared], holders: dict[str, list[str]] | None = None,
                  clusters: dict[str, tuple[str, int]] | None = None,
                  events: dict[str, str | None] | None = None) -> Neighbourhood:
    """What read_batch and the lock protocol would read: every alias of the batch (holders
    given by profile id), the profiles' clusters ``{profile: (cluster, size)}``, and the
    stored events ``{event_id: performer}``."""
    holders = holders or {}
    clusters = clusters or {}
    events = events or {}
    urns = {a.urn for w in writes for a in w.aliases}
    ids = {w.event_id for w in writes if w.event_id}
    return Neighbourhood(
        aliases={u: AliasState(list(holders.get(u, [])), False, False) for u in urns},
        events={e: EventState(seen=e in events, performer=events.get(e), link_blocked=False)
                for e in ids},
        profile_cluster={p: c for p, (c, _) in clusters.items()},
        profile_created={p: T0 for p in clusters},
        clusters={c: ClusterInfo(c, size, T0) for c, size in clusters.values()},
        cluster_urns={c: set() for c, _ in clusters.values()},
        profile_state={},
    )


def replay(writes: list[Prepared], policy: Policy | None = None, **nb) -> tuple[list, Overlay]:
    overlay = Overlay(neighbourhood(writes, **nb), policy or Policy(), NOW)
    return [overlay.apply(i, w) for i, w in enumerate(writes)], overlay


def test_two_writes_sharing_an_email_in_one_batch_land_on_one_profile():
    results, overlay = replay([write("urn:email:jo@x.com", event_id="e1"),
                               write("urn:email:jo@x.com", "urn:phone:+15550100", event_id="e2")])
    assert results[0]["profile_id"] == results[1]["profile_id"]
    assert results[0]["cluster_id"] == results[1]["cluster_id"]
    delta = overlay.delta()
    assert len(delta.profiles) == 1 and delta.links == []
    assert {e["event_id"] for e in delta.events} == {"e1", "e2"}


def test_a_second_device_joins_the_first_with_one_same_as_edge_and_its_evidence():
    results, overlay = replay([write("urn:email:jo@x.com", cookie="laptop"),
                               write("urn:email:jo@x.com", cookie="phone")])
    first, second = results
    assert first["profile_id"] != second["profile_id"]
    assert first["cluster_id"] == second["cluster_id"]
    [link] = overlay.delta().links
    assert (link["from"], link["to"]) == (second["profile_id"], first["profile_id"])
    assert (link["via"], link["reason"]) == (["urn:email:jo@x.com"], "shared_alias")


def test_a_repeated_event_id_is_deduplicated_and_joins_its_original_performer():
    results, overlay = replay([write(cookie="checkout", event_id="X01"),
                               write("urn:email:jo@x.com", event_id="X01")])
    assert [r["deduplicated"] for r in results] == [False, True]
    assert results[0]["cluster_id"] == results[1]["cluster_id"]
    [link] = overlay.delta().links
    assert link["reason"] == "shared_event" and link["event_id"] == "X01"
    [event] = overlay.delta().events
    assert event["dups"] == 1 and event["performer"] == results[0]["profile_id"]


def test_the_larger_existing_cluster_keeps_its_id_and_the_smaller_one_is_relabelled():
    writes = [write("urn:email:a@x.com", "urn:email:b@x.com")]
    results, overlay = replay(writes, holders={"urn:email:a@x.com": ["p-small"],
                                               "urn:email:b@x.com": ["p-big"]},
                              clusters={"p-small": ("c-small", 1), "p-big": ("c-big", 7)})
    assert results[0]["cluster_id"] == "c-big"
    delta = overlay.delta()
    assert delta.relabels == [{"from": "c-small", "to": "c-big"}]
    merged = {c["cluster_id"]: c for c in delta.clusters}
    assert merged["c-small"]["merged_into"] == "c-big"
    assert merged["c-big"]["size"] == 8


def test_a_merge_over_the_email_limit_is_refused_reported_and_recorded_as_a_conflict():
    # Device hand-over off: the limit, not the hand-over, is what keeps them apart here.
    policy = Policy.model_validate({"limits": {"email": 1}, "handover_types": []})
    results, overlay = replay([write("urn:email:a@x.com", cookie="shared"),
                               write("urn:email:b@x.com", cookie="shared")], policy=policy)
    second = results[1]
    assert second["cluster_id"] != results[0]["cluster_id"]
    assert any(i["reason"] == "limit:email" for i in second["ignored_aliases"])
    [conflict] = overlay.delta().conflicts
    assert conflict["kind"] == "refused_merge" and conflict["reason"] == "limit:email"


def test_latest_timestamp_wins_per_profile_property_whatever_the_arrival_order():
    results, overlay = replay([
        write("urn:email:jo@x.com", props={"tier": "gold"}, minute=10),
        write("urn:email:jo@x.com", props={"tier": "silver", "city": "Oslo"}, minute=5),
    ])
    [props] = overlay.delta().properties
    assert props["profile_id"] == results[0]["profile_id"]
    assert props["node_props"] == {"tier": "gold", "city": "Oslo"}


def test_a_device_changing_hands_keeps_both_people_apart_and_records_both_sides():
    results, overlay = replay([write("urn:email:mum@x.com", cookie="family-laptop", minute=1),
                               write("urn:email:kid@x.com", cookie="family-laptop", minute=2),
                               write(cookie="family-laptop", event_id="view", minute=3)])
    mum, kid, later = results
    assert mum["cluster_id"] != kid["cluster_id"]
    assert later["profile_id"] == kid["profile_id"]  # anonymous activity follows the login
    assert [(i["alias"], i["reason"].split(":")[0]) for i in kid["ignored_aliases"]] == [
        ("urn:cookie:family-laptop", "device_handover")]
    delta = overlay.delta()
    assert delta.links == []
    assert [(c["kind"], c["profile_id"], c["other_profile_id"]) for c in delta.conflicts] == [
        ("device_handover", kid["profile_id"], mum["profile_id"])]
    # Both hold the cookie; the earlier attachment stays (the mother's history is hers).
    assert {(a["profile_id"], a["urn"]) for a in delta.attachments} >= {
        (mum["profile_id"], "urn:cookie:family-laptop"),
        (kid["profile_id"], "urn:cookie:family-laptop")}


def test_a_trusted_write_naming_both_people_of_a_handed_over_device_joins_them():
    results, overlay = replay([write("urn:email:a@x.com", cookie="tablet", minute=1),
                         write("urn:email:b@x.com", cookie="tablet", minute=2),
                         write("urn:email:a@x.com", "urn:email:b@x.com", event_id="o1",
                               minute=3)])
    assert results[0]["cluster_id"] != results[1]["cluster_id"]
    assert {overlay.find(r["cluster_id"]) for r in results} == {results[2]["cluster_id"]}
