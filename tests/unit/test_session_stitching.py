"""Session stitching (resolver case 10, docs/identity.md#session-stitching) in the batch
replay: a login takes the anonymous events of its own session on its device from the
device's earlier person, and the Delta says which stored events move."""

from __future__ import annotations

from converge_graph.core.batch import SESSION_MAX, AliasState, EventState, Overlay
from converge_graph.core.policy import Policy
from converge_graph.core.resolver import Holder, SessionRole, session_moves, session_role
from tests.unit.test_batch_replay import T0, alias, neighbourhood, replay, write

LAPTOP = "urn:cookie:laptop"
MUM = "urn:email:mum@x.com"


def mums_laptop() -> list:
    """Mum identifies on the laptop; hours later a guest browses on it (three page views a
    minute apart) and logs in five minutes after the first."""
    return [write(MUM, cookie="laptop", event_id="mum-login", minute=0),
            *[write(cookie="laptop", event_id=f"view{n}", minute=300 + n) for n in range(3)],
            write("urn:email:guest@x.com", cookie="laptop", event_id="guest-login", minute=305)]


def performer(overlay, event_id: str) -> str:
    return overlay.nb.events[event_id].performer


def test_a_guests_page_views_just_before_their_login_go_with_the_guest_not_the_device():
    results, overlay = replay(mums_laptop())
    mum, guest = results[0]["profile_id"], results[4]["profile_id"]
    assert mum != guest and results[0]["cluster_id"] != results[4]["cluster_id"]
    assert [r["profile_id"] for r in results[1:4]] == [mum] * 3  # as each was answered
    assert [performer(overlay, f"view{n}") for n in range(3)] == [guest] * 3
    delta = overlay.delta()
    # Created in this batch: written straight onto the guest, nothing to move afterwards.
    assert {e["event_id"]: e["performer"] for e in delta.events if e["event_id"] != "mum-login"
            } == {"view0": guest, "view1": guest, "view2": guest, "guest-login": guest}
    assert delta.moves == []
    [stitch] = [c for c in delta.conflicts if c["kind"] == "session_stitch"]
    assert (stitch["alias"], stitch["profile_id"], stitch["other_profile_id"]) == (
        LAPTOP, guest, mum)
    assert "view0, view1, view2" in stitch["reason"]
    assert {s["urn"]: s["events"] for s in delta.sessions} == {LAPTOP: []}  # ended by the login


def test_anonymous_use_before_a_gap_over_the_window_stays_with_the_devices_person():
    writes = mums_laptop()
    writes.insert(1, write(cookie="laptop", event_id="mum-later", minute=200))  # 100 min gap
    results, overlay = replay(writes)
    assert performer(overlay, "mum-later") == results[0]["profile_id"]
    assert performer(overlay, "view0") == results[-1]["profile_id"]


def test_a_login_by_the_devices_own_person_moves_nothing():
    writes = [*mums_laptop()[:4], write(MUM, cookie="laptop", event_id="again", minute=305)]
    results, overlay = replay(writes)
    assert {performer(overlay, f"view{n}") for n in range(3)} == {results[0]["profile_id"]}
    assert not [c for c in overlay.delta().conflicts if c["kind"] == "session_stitch"]


def test_a_login_ends_the_session_so_a_later_login_takes_only_what_came_after_it():
    writes = [*mums_laptop()[:4], write(MUM, cookie="laptop", event_id="again", minute=304),
              write("urn:email:guest@x.com", cookie="laptop", event_id="guest", minute=306)]
    results, overlay = replay(writes)
    assert {performer(overlay, f"view{n}") for n in range(3)} == {results[0]["profile_id"]}


def test_stitching_is_policy_and_off_at_zero_minutes():
    results, overlay = replay(mums_laptop(), Policy(session_minutes=0))
    assert {performer(overlay, f"view{n}") for n in range(3)} == {results[0]["profile_id"]}
    delta = overlay.delta()
    assert delta.sessions == [] and delta.moves == []


def test_stored_events_of_the_session_move_by_their_performed_edge():
    """The session as read from the store (page views an earlier transaction wrote onto
    mum's profile, the last at T0): a login 20 minutes later moves them in the Delta."""
    login = write("urn:email:guest@x.com", cookie="laptop", event_id="guest-login", minute=20)
    nb = neighbourhood([login], holders={LAPTOP: ["p-mum"]}, clusters={"p-mum": ("c-mum", 1)})
    nb.aliases[LAPTOP] = AliasState(["p-mum"], False, False, last_seen={"p-mum": T0},
                                    session=["v1", "v2"], session_last=T0)
    nb.events.update({e: EventState(True, "p-mum", False) for e in ("v1", "v2")})
    nb.cluster_urns["c-mum"] = {MUM}
    overlay = Overlay(nb, Policy(), T0)
    result = overlay.apply(0, login)
    assert [i["reason"].split(":")[0] for i in result["ignored_aliases"]] == ["device_handover"]
    assert overlay.delta().moves == [{"event_id": "v1", "to": result["profile_id"]},
                                     {"event_id": "v2", "to": result["profile_id"]}]


def test_a_devices_session_keeps_only_its_newest_events():
    writes = [write(cookie="laptop", event_id=f"v{n}", minute=0) for n in range(SESSION_MAX + 5)]
    _, overlay = replay(writes)
    [session] = overlay.delta().sessions
    assert session["events"] == [f"v{n}" for n in range(5, SESSION_MAX + 5)]


def test_what_a_write_is_to_its_devices_session():
    policy = Policy()
    assert session_role([alias(LAPTOP)], policy) is SessionRole.ANONYMOUS
    assert session_role([alias(LAPTOP), alias("urn:checkout:t1")], policy) is (
        SessionRole.ANONYMOUS)
    assert session_role([alias(LAPTOP), alias(MUM)], policy) is SessionRole.LOGIN
    assert session_role([alias(LAPTOP), alias("urn:loyalty:9")], policy) is SessionRole.OTHER


def test_only_events_performed_outside_the_logins_cluster_move():
    own, other = Holder("p1", "c-login", T0), Holder("p2", "c-else", T0)
    assert session_moves([("e1", own), ("e2", other)], "c-login") == [("e2", other)]
