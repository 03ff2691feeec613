"""Device hand-over (docs/identity.md#device-hand-over): a second person logging in on a
device is handed the device; the first keeps their history and the two are not joined."""

from __future__ import annotations

LAPTOP = "urn:cookie:family-laptop"


def test_readme_family_laptop_two_customers_stay_two_and_the_laptop_follows_the_last_login(
        api):
    first = api.webhook({"event_name": "Logged In",
                         "aliases": ["urn:customer_id:1", LAPTOP]})
    second = api.webhook({"event_name": "Logged In",
                          "aliases": ["urn:customer_id:2", LAPTOP]})
    assert first["ignored_aliases"] == []
    assert [(i["alias"], i["reason"].split(":")[0]) for i in second["ignored_aliases"]] == [
        (LAPTOP, "device_handover")]
    assert first["cluster_id"] in second["ignored_aliases"][0]["reason"]
    assert second["cluster_id"] != first["cluster_id"]

    # Later anonymous activity on the laptop is the second customer's.
    viewed = api.webhook({"event_name": "Viewed", "aliases": [LAPTOP]})
    assert viewed["profile_id"] == second["profile_id"]
    assert api.cluster_of(LAPTOP)["cluster_id"] == second["cluster_id"]
    one, two = api.cluster_of("urn:customer_id:1"), api.cluster_of("urn:customer_id:2")
    assert "urn:customer_id:2" not in one["aliases"] and "urn:customer_id:1" not in two["aliases"]
    assert LAPTOP in one["aliases"] and LAPTOP in two["aliases"]

    conflicts = api.get("/v1/conflicts")["conflicts"]
    assert [(c["kind"], c["alias"], c["profile_id"], c["other_profile_id"]) for c in conflicts
            ] == [("device_handover", LAPTOP, second["profile_id"], first["profile_id"])]

    why = api.get(f"/v1/clusters/{first['cluster_id']}/explain",
                  **{"from": first["profile_id"], "to": second["profile_id"]})
    assert (why["joined"], why["path"], why["to_cluster_id"]) == (
        False, [], second["cluster_id"])
    assert [(k["alias"], k["event_id"]) for k in why["kept_apart"]] == [
        (LAPTOP, second["event_id"])]

    # The first customer logs in again: the laptop is handed back, still nobody is joined.
    again = api.webhook({"event_name": "Logged In", "aliases": ["urn:customer_id:1", LAPTOP]})
    assert again["profile_id"] == first["profile_id"]
    assert api.webhook({"event_name": "Viewed", "aliases": [LAPTOP]})["profile_id"] == \
        first["profile_id"]
    assert api.cluster_of("urn:customer_id:2")["cluster_id"] == second["cluster_id"]


def test_one_person_with_two_emails_on_one_browser_is_joined_when_the_backend_says_so(api):
    work = api.collect({"method": "track", "eventName": "Subscribed",
                        "aliases": ["urn:email:jo@work.com"]}, cookie="jo-phone")
    home = api.collect({"method": "track", "eventName": "Subscribed",
                        "aliases": ["urn:email:jo@home.com"]}, cookie="jo-phone")
    assert work["cluster_id"] != home["cluster_id"]
    order = api.webhook({"event_name": "Order Completed", "event_id": "JO-1",
                         "aliases": ["urn:email:jo@work.com", "urn:email:jo@home.com"]})
    assert order["ignored_aliases"] == []
    cluster = api.cluster_of("urn:cookie:jo-phone")
    assert {"urn:email:jo@work.com", "urn:email:jo@home.com"} <= set(cluster["aliases"])
    assert api.cluster_of("urn:email:jo@work.com")["cluster_id"] == cluster["cluster_id"]


def test_a_hostile_page_forging_someones_cookie_joins_nothing_of_theirs(api):
    """The web token is public and a cookie id is no secret: a page posting a victim's
    cookie with its own email may move that cookie's later anonymous views to a new
    profile, but it joins neither person to the other and reads nothing."""
    urn = "urn:customer_id:victim-7"
    victim = api.collect({"method": "track", "eventName": "Logged In", "aliases": [urn],
                          "signatures": {urn: api.sign(urn)}}, cookie="victim-browser")
    api.webhook({"event_name": "Signed Up", "aliases": ["urn:email:mallory@evil.com"]})
    forged = api.collect({"method": "track", "eventName": "Subscribed",
                          "aliases": ["urn:email:mallory@evil.com"]}, cookie="victim-browser")
    assert forged["cluster_id"] != victim["cluster_id"], forged
    mine = api.cluster_of("urn:email:mallory@evil.com")
    theirs = api.cluster_of(urn)
    assert urn not in mine["aliases"] and "urn:email:mallory@evil.com" not in theirs["aliases"]
    assert theirs["cluster_id"] == victim["cluster_id"]
    assert {p["profile_id"] for p in theirs["profiles"]} == {victim["profile_id"]}
    # The forged write is a claim: the verified view of the cookie is the forged profile
    # alone (nothing of either person), and the victim's holds none of the attacker's.
    verified = api.get("/v1/clusters/lookup", alias="urn:cookie:victim-browser",
                       trust="verified")
    assert [p["profile_id"] for p in verified["profiles"]] == [forged["profile_id"]]
    assert urn not in verified["aliases"]
    victims = api.get("/v1/clusters/lookup", alias=urn, trust="verified")
    assert {p["profile_id"] for p in victims["profiles"]} == {victim["profile_id"]}
    # Logging in again (a signed id only the shop's backend can give) hands it back.
    back = api.collect({"method": "track", "eventName": "Logged In", "aliases": [urn],
                        "signatures": {urn: api.sign(urn)}}, cookie="victim-browser")
    assert back["cluster_id"] == victim["cluster_id"]
    assert api.cluster_of("urn:cookie:victim-browser")["cluster_id"] == victim["cluster_id"]


def test_mums_order_from_the_laptop_her_son_logged_in_on_does_not_join_the_two(api):
    """Cart and checkout tokens are devices: the cart mum hands from the laptop to the
    checkout page was minted while the laptop was her son's, and her order carries it with
    her email — the token changes hands with the laptop instead of joining them."""
    mum = api.webhook({"event_name": "Signed Up", "aliases": ["urn:email:mum@family.com"]})
    api.collect({"method": "track", "eventName": "Subscribed",
                 "aliases": ["urn:email:mum@family.com"]}, cookie="mums-laptop")
    son = api.webhook({"event_name": "Logged In",
                       "aliases": ["urn:customer_id:son-1", "urn:cookie:mums-laptop"]})
    assert son["cluster_id"] != mum["cluster_id"]  # the laptop was handed over to him
    # Next day mum shops on the laptop without logging in and checks out on the
    # checkout domain, typing her email there.
    cart = api.collect({"method": "set", "aliases": ["urn:checkout:CART-9"]},
                       cookie="mums-laptop")
    assert cart["cluster_id"] == son["cluster_id"]  # nothing in it says it is mum
    order = api.collect({"method": "forward", "eventName": "Order Completed",
                         "eventID": "ORD-9", "aliases": ["urn:email:mum@family.com",
                                                         "urn:checkout:CART-9"]},
                        cookie="checkout-page")
    assert order["cluster_id"] == mum["cluster_id"]
    assert api.cluster_of("urn:customer_id:son-1")["cluster_id"] == son["cluster_id"]
    assert "urn:email:mum@family.com" not in api.cluster_of("urn:customer_id:son-1")["aliases"]
    assert api.cluster_of("urn:checkout:CART-9")["cluster_id"] == mum["cluster_id"]

    handed = [c for c in api.get("/v1/conflicts")["conflicts"]
              if c["alias"] == "urn:checkout:CART-9"]
    assert [(c["kind"], c["profile_id"]) for c in handed] == [
        ("device_handover", order["profile_id"])]
    why = api.get(f"/v1/clusters/{mum['cluster_id']}/explain",
                  **{"from": order["profile_id"], "to": handed[0]["other_profile_id"]})
    assert why["joined"] is False
    assert "urn:checkout:CART-9" in [k["alias"] for k in why["kept_apart"]]


def events_of(api, cluster_id: str) -> set[str]:
    page = api.get(f"/v1/clusters/{cluster_id}/events", limit=500)
    return {e["event_id"] for e in page["events"]}


def test_a_guests_page_views_just_before_their_login_go_with_the_guest(api):
    """Session stitching (docs/identity.md#session-stitching): the guest browses the family
    laptop anonymously, then logs in; those page views are the guest's, not mum's."""
    mum = api.webhook({"event_name": "Logged In", "event_id": "mum-login",
                       "aliases": ["urn:customer_id:mum", LAPTOP]})
    views = [api.webhook({"event_name": "Viewed", "event_id": f"view-{n}", "aliases": [LAPTOP]})
             for n in range(2)]
    assert {v["profile_id"] for v in views} == {mum["profile_id"]}  # as each was answered
    guest = api.webhook({"event_name": "Logged In", "event_id": "guest-login",
                         "aliases": ["urn:customer_id:kid", LAPTOP]})
    assert guest["cluster_id"] != mum["cluster_id"]
    assert events_of(api, guest["cluster_id"]) == {"view-0", "view-1", "guest-login"}
    assert events_of(api, mum["cluster_id"]) == {"mum-login"}
    assert api.get("/v1/events/view-0")["profile_id"] == guest["profile_id"]

    stitched = [c for c in api.get("/v1/conflicts")["conflicts"] if c["kind"] == "session_stitch"]
    assert [(c["alias"], c["profile_id"], c["other_profile_id"], c["event_id"])
            for c in stitched] == [(LAPTOP, guest["profile_id"], mum["profile_id"],
                                    "guest-login")]
    assert "view-0, view-1" in stitched[0]["reason"]


def test_a_hostile_page_forging_a_login_takes_no_identified_event_of_the_victims(api):
    """A page posting a victim's cookie with its own email takes, at most, the anonymous
    views of the victim's current session on that cookie: never the victim's login, and it
    joins no one."""
    urn = "urn:customer_id:victim-9"
    victim = api.collect({"method": "track", "eventName": "Logged In", "eventID": "v-login",
                          "aliases": [urn], "signatures": {urn: api.sign(urn)}},
                         cookie="victim-tab")
    viewed = api.collect({"method": "track", "eventName": "Viewed", "eventID": "v-view"},
                         cookie="victim-tab")
    assert viewed["profile_id"] == victim["profile_id"]
    forged = api.collect({"method": "track", "eventName": "Subscribed", "eventID": "m-sub",
                          "aliases": ["urn:email:mallory@evil.com"]}, cookie="victim-tab")
    assert forged["cluster_id"] != victim["cluster_id"]
    assert events_of(api, victim["cluster_id"]) == {"v-login"}
    assert events_of(api, forged["cluster_id"]) == {"v-view", "m-sub"}
    theirs = api.cluster_of(urn)
    assert {p["profile_id"] for p in theirs["profiles"]} == {victim["profile_id"]}
    assert "urn:email:mallory@evil.com" not in theirs["aliases"]


def test_erasing_a_person_leaves_none_of_their_events_in_a_shared_devices_session(api):
    kid = api.webhook({"event_name": "Logged In", "aliases": ["urn:customer_id:kid", LAPTOP]})
    mum = api.webhook({"event_name": "Logged In", "aliases": ["urn:customer_id:mum", LAPTOP]})
    view = api.webhook({"event_name": "Viewed", "event_id": "mum-private-view",
                        "aliases": [LAPTOP]})
    assert view["profile_id"] == mum["profile_id"]
    resp = api.client.delete(f"/v1/clusters/{mum['cluster_id']}",
                             headers={"Authorization": f"Bearer {api.admin_key}"})
    assert resp.status_code == 200, resp.text
    records, _, _ = api.driver.execute_query(
        "MATCH (a:Alias {urn: $urn}) RETURN a.session AS s", urn=LAPTOP)
    assert [r["s"] for r in records] == [None]  # the laptop stays (the kid's), forgetting it
    assert api.cluster_of(LAPTOP)["cluster_id"] == kid["cluster_id"]
