"""The trust model (docs/security.md#the-trust-model), each test written as an attack.

The web token is public: whatever the browser route accepts, a hostile page can send.
Each attack asserts the attacker gets nothing (nothing of the victim in the attacker's
verified view, nothing of the attacker on the victim's profile) and the victim's data is
unchanged.
"""

from __future__ import annotations

from converge_graph.service import Service

VERIFIED = {"trust": "verified"}


def rows(api, query: str, **params) -> list[dict]:
    records, _, _ = api.driver.execute_query(query, params)
    return [r.data() for r in records]


def verified(api, urn: str, expect: int = 200) -> dict:
    return api.get("/v1/clusters/lookup", expect=expect, alias=urn, **VERIFIED)


def conflicts(api, kind: str) -> list[str]:
    return [r["alias"] for r in rows(
        api, "MATCH (c:Conflict {kind: $kind}) RETURN c.alias AS alias ORDER BY alias",
        kind=kind)]


def sign_up(api, n: str) -> dict:
    return api.webhook({"event_name": "Signed Up", "profile_properties": {"$first_name": n},
                        "aliases": [f"urn:customer_id:{n}", f"urn:email:{n}@shop.com"]})


# -- squatting a customer id -----------------------------------------------------------


def test_an_unsigned_customer_id_from_the_browser_is_dropped_and_reported(api):
    attacker = api.collect({"method": "set", "aliases": ["urn:customer_id:5001"]}, cookie="sq")
    victim = sign_up(api, "5001")
    assert victim["profile_id"] != attacker["profile_id"]
    assert victim["cluster_id"] != attacker["cluster_id"]
    assert api.cluster_of("urn:customer_id:5001")["aliases"] == [
        "urn:customer_id:5001", "urn:email:5001@shop.com"]
    assert api.cluster_of("urn:cookie:sq")["aliases"] == ["urn:cookie:sq"]
    assert conflicts(api, "unsigned_alias") == ["urn:customer_id:5001"]


def test_a_forged_signature_counts_for_nothing(api):
    sign_up(api, "5001")
    api.collect({"method": "set", "aliases": ["urn:customer_id:5001"],
                 "signatures": {"urn:customer_id:5001": "ab" * 32}}, cookie="sq")
    assert "urn:cookie:sq" not in api.cluster_of("urn:customer_id:5001")["aliases"]


def test_a_signed_customer_id_joins_the_browser_to_its_owner_on_verified_evidence(api):
    owner = sign_up(api, "5001")
    urn = "urn:customer_id:5001"
    browser = api.collect({"method": "set", "aliases": [urn],
                           "signatures": {urn: api.sign(urn)}}, cookie="mine")
    assert browser["cluster_id"] == owner["cluster_id"]
    person = verified(api, "urn:cookie:mine")
    assert {p["profile_id"] for p in person["profiles"]} == {
        owner["profile_id"], browser["profile_id"]}
    assert {link["trust"] for link in person["links"]} == {"signed"}


def test_an_unsigned_claim_the_source_accepts_is_never_where_the_sign_up_lands(api):
    service: Service = api.client.app.state.service
    loose = service.add_source("loose-web", "web", accept_unsigned=["customer_id"])
    resp = api.client.post(f"/v1/collect/{loose['token']}", json={
        "method": "set", "aliases": ["urn:customer_id:5001"], "cookieId": "sq"})
    assert resp.status_code == 200, resp.text
    attacker = api.cluster_of("urn:cookie:sq")["profiles"][0]
    victim = sign_up(api, "5001")
    assert victim["profile_id"] != attacker["profile_id"]
    # The claim links in the everything view (the documented risk of opting in) ...
    assert victim["cluster_id"] == api.cluster_of("urn:cookie:sq")["cluster_id"]
    # ... but a page personalised on verified evidence shows the attacker nothing.
    assert verified(api, "urn:cookie:sq")["aliases"] == ["urn:cookie:sq"]
    mine = verified(api, "urn:customer_id:5001")
    assert [p["profile_id"] for p in mine["profiles"]] == [victim["profile_id"]]


# -- squatting an order id -------------------------------------------------------------

SQUAT = {"method": "forward", "eventName": "Placed Order", "eventID": "ORD-2001",
         "properties": {"total": 0.01}}
REAL = {"event_name": "Placed Order", "event_id": "ORD-2001", "properties": {"total": 129.5},
        "aliases": ["urn:customer_id:2001", "urn:email:buyer@shop.com"]}


def test_a_browser_squatting_an_order_id_does_not_own_the_order(api):
    api.collect(SQUAT, cookie="sq")
    buyer = api.webhook(REAL)
    event = api.get("/v1/events/ORD-2001")
    assert event["properties"] == {"total": 129.5}
    assert event["profile_id"] == buyer["profile_id"]
    assert event["datasource"] == "shop-backend"
    stored = rows(api, """MATCH (e:Event {event_id: 'ORD-2001'})
                          RETURN e.duplicates AS dups, e.duplicate_sources AS sources,
                                 count {(e)<-[:PERFORMED]-()} AS performers""")
    assert stored == [{"dups": 1, "sources": [api.web["source_id"]], "performers": 1}]
    assert verified(api, "urn:cookie:sq")["aliases"] == ["urn:cookie:sq"]
    person = verified(api, "urn:email:buyer@shop.com")
    assert [p["profile_id"] for p in person["profiles"]] == [buyer["profile_id"]]


def test_a_browser_repeating_a_stored_order_changes_nothing_of_it(api):
    buyer = api.webhook(REAL)
    api.collect(SQUAT, cookie="sq")
    event = api.get("/v1/events/ORD-2001")
    assert (event["properties"], event["profile_id"]) == ({"total": 129.5}, buyer["profile_id"])
    assert verified(api, "urn:cookie:sq")["aliases"] == ["urn:cookie:sq"]


# -- merging strangers -----------------------------------------------------------------


def test_one_browser_call_cannot_join_three_strangers(api):
    people = {n: sign_up(api, n) for n in ("ann", "bob", "cat")}
    api.collect({"method": "track", "eventName": "Hi", "aliases": [
        f"urn:email:{n}@shop.com" for n in people]}, cookie="x")
    clusters = {api.cluster_of(f"urn:customer_id:{n}")["cluster_id"] for n in people}
    assert clusters == {p["cluster_id"] for p in people.values()}
    assert conflicts(api, "refused_bridge") == ["urn:email:bob@shop.com",
                                                "urn:email:cat@shop.com"]


def test_a_browser_attached_to_one_person_cannot_bridge_to_another_later(api):
    ann, bob = sign_up(api, "ann"), sign_up(api, "bob")
    first = api.collect({"method": "set", "aliases": ["urn:email:ann@shop.com"]}, cookie="x")
    second = api.collect({"method": "set", "aliases": ["urn:email:bob@shop.com"]}, cookie="x")
    # Bob's login hands the browser over (docs/identity.md#device-hand-over): Ann keeps the
    # browser's history, the browser is Bob's from now on, and Ann and Bob stay apart.
    assert api.cluster_of("urn:email:ann@shop.com")["cluster_id"] == ann["cluster_id"]
    assert api.cluster_of("urn:email:bob@shop.com")["cluster_id"] == bob["cluster_id"]
    assert ann["cluster_id"] != bob["cluster_id"]
    assert first["profile_id"] in {p["profile_id"] for p in api.cluster_of(
        "urn:email:ann@shop.com")["profiles"]}
    assert second["cluster_id"] == bob["cluster_id"] != first["cluster_id"]
    assert api.cluster_of("urn:cookie:x")["cluster_id"] == bob["cluster_id"]


def test_a_browser_email_still_links_to_the_backend_in_the_everything_view(api):
    browser = api.collect({"method": "track", "eventName": "Subscribed",
                           "aliases": ["urn:email:john.smith@apple.com"]}, cookie="laptop-1")
    server = api.webhook({"event_name": "Subscribed",
                          "aliases": ["urn:email:john.smith@apple.com"]})
    assert server["cluster_id"] == api.cluster_of("urn:cookie:laptop-1")["cluster_id"]
    assert server["profile_id"] != browser["profile_id"]
    # the claim stays out of the verified view, both ways
    assert verified(api, "urn:cookie:laptop-1")["aliases"] == ["urn:cookie:laptop-1"]
    person = verified(api, "urn:email:john.smith@apple.com")
    assert [p["profile_id"] for p in person["profiles"]] == [server["profile_id"]]


def test_an_alias_only_browsers_claim_has_no_verified_holder(api):
    api.collect({"method": "set", "aliases": ["urn:email:who@shop.com"]}, cookie="x")
    verified(api, "urn:email:who@shop.com", expect=404)


# -- quarantining a victim's email -----------------------------------------------------


def test_claims_from_many_cookies_cannot_quarantine_an_email_a_backend_holds(api):
    victim = sign_up(api, "vic")
    email = "urn:email:vic@shop.com"
    for i in range(52):
        api.collect({"method": "set", "aliases": [email]}, cookie=f"throwaway-{i}")
    assert rows(api, "MATCH (a:Alias {urn: $u}) RETURN a.quarantined AS q", u=email) == [
        {"q": None}]
    device = api.collect({"method": "set", "aliases": [email]}, cookie="vic-phone")
    order = api.webhook({"event_name": "Placed Order", "aliases": [email]})
    assert device["cluster_id"] == victim["cluster_id"]
    assert order["profile_id"] == victim["profile_id"]


# -- growing a cluster through one event id --------------------------------------------


def test_one_event_id_joins_a_bounded_number_of_profiles(api):
    limit = api.client.app.state.service.policy.event_hub_threshold
    for i in range(limit + 5):
        api.collect({"method": "forward", "eventName": "Placed Order", "eventID": "SHARED"},
                    cookie=f"c{i}")
    sizes = rows(api, """MATCH (p:Profile) RETURN p.cluster_id AS c, count(*) AS n
                         ORDER BY n DESC LIMIT 1""")
    assert sizes[0]["n"] == limit + 1
    assert len(conflicts(api, "event_hub")) == 4
