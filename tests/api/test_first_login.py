"""A known person's first login (docs/identity.md#a-known-persons-first-login), each write
its own request and transaction against Neo4j: a visitor known from their own phone logs
in on a laptop only its owner's anonymous browsing has held, during a session."""

from __future__ import annotations

LAPTOP = "urn:cookie:owners-laptop"
VISITOR = "urn:customer_id:visitor-3"


def at(hours: float) -> str:
    return f"2025-03-0{1 + int(hours // 24)}T{int(hours % 24):02d}:{int(hours * 60 % 60):02d}:00Z"


def events_of(api, cluster_id: str) -> set[str]:
    page = api.get(f"/v1/clusters/{cluster_id}/events", limit=500)
    return {e["event_id"] for e in page["events"]}


def test_a_known_visitors_login_takes_its_session_and_leaves_the_owners_history(api):
    api.webhook({"event_name": "Logged In", "event_id": "phone", "timestamp": at(0),
                 "aliases": [VISITOR, "urn:cookie:visitors-phone"]})
    owner = [api.webhook({"event_name": "Page View", "event_id": f"owner-{n}",
                          "aliases": [LAPTOP], "timestamp": at(1 + n)}) for n in range(2)]
    api.webhook({"event_name": "Page View", "event_id": "visitor-view", "aliases": [LAPTOP],
                 "timestamp": at(24)})
    login = api.webhook({"event_name": "Logged In", "event_id": "visitor-login",
                         "aliases": [VISITOR, LAPTOP], "timestamp": at(24.05)})

    assert [(i["alias"], i["reason"].split(":")[0]) for i in login["ignored_aliases"]] == [
        (LAPTOP, "first_login")]
    assert events_of(api, login["cluster_id"]) == {"phone", "visitor-view", "visitor-login"}
    assert events_of(api, owner[0]["cluster_id"]) == {"owner-0", "owner-1"}
    kept = [(c["alias"], c["profile_id"], c["other_profile_id"])
            for c in api.get("/v1/conflicts")["conflicts"] if c["kind"] == "first_login"]
    assert kept == [(LAPTOP, login["profile_id"], owner[0]["profile_id"])]

    why = api.get(f"/v1/clusters/{login['cluster_id']}/explain",
                  **{"from": login["profile_id"], "to": owner[0]["profile_id"]})
    assert (why["joined"], why["path"], why["to_cluster_id"]) == (
        False, [], owner[0]["cluster_id"])
    assert [(k["kind"], k["alias"], k["event_id"]) for k in why["kept_apart"]] == [
        ("first_login", LAPTOP, "visitor-login")]


def test_a_hostile_page_posting_the_owners_cookie_with_an_identity_it_holds_takes_no_history(api):
    """The page holds an email of its own (posted from its own browser) and posts the
    owner's cookie with it during the owner's session: at most that session, which it
    could have posted itself; the owner's browsing of the day before stays the owner's."""
    api.collect({"method": "track", "eventName": "Signed Up", "eventID": "mallory",
                 "aliases": ["urn:email:mallory@evil.com"], "timestamp": at(0)},
                cookie="mallory-browser")
    yesterday = api.collect({"method": "track", "eventName": "Page View", "eventID": "owner-0",
                             "timestamp": at(1)}, cookie="owners-laptop")
    api.collect({"method": "track", "eventName": "Page View", "eventID": "owner-now",
                 "timestamp": at(24)}, cookie="owners-laptop")
    forged = api.collect({"method": "track", "eventName": "Logged In", "eventID": "forged",
                          "aliases": ["urn:email:mallory@evil.com"], "timestamp": at(24.05)},
                         cookie="owners-laptop")
    assert "owner-0" not in events_of(api, forged["cluster_id"])
    assert api.get("/v1/events/owner-0")["profile_id"] == yesterday["profile_id"]


def test_a_hostile_page_posting_a_new_devices_cookie_does_not_take_its_later_browsing(api):
    """The victim's browser is new: its whole use is the live session. The page's forged
    login (its own email, public web token) takes that session, but not the device: the
    victim's browsing the next day stays off the page's person."""
    api.collect({"method": "track", "eventName": "Signed Up", "eventID": "mallory-2",
                 "aliases": ["urn:email:mallory2@evil.com"], "timestamp": at(0)},
                cookie="mallory-browser-2")
    api.collect({"method": "track", "eventName": "Page View", "eventID": "new-now",
                 "timestamp": at(24)}, cookie="victims-new-phone")
    forged = api.collect({"method": "track", "eventName": "Logged In", "eventID": "forged-2",
                          "aliases": ["urn:email:mallory2@evil.com"], "timestamp": at(24.05)},
                         cookie="victims-new-phone")
    later = api.collect({"method": "track", "eventName": "Page View", "eventID": "new-later",
                         "timestamp": at(48)}, cookie="victims-new-phone")
    assert later["cluster_id"] != forged["cluster_id"]
    assert "new-later" not in events_of(api, forged["cluster_id"])
