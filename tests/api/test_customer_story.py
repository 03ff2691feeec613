"""One customer's story across two devices, a checkout on another domain and the backend."""

from __future__ import annotations


def rows(api, query: str, **params):
    records, _, _ = api.driver.execute_query(query, params)
    return [r.data() for r in records]


def test_john_across_phone_laptop_checkout_and_backend(api):
    # Pageviews on a phone and a laptop: two cookies, two profiles.
    phone = api.collect({"method": "track", "eventName": "Viewed Product",
                         "properties": {"sku": "A1"}}, cookie="phone")
    laptop = api.collect({"method": "track", "eventName": "Viewed Product",
                          "properties": {"sku": "A1"}}, cookie="laptop")
    assert phone["cluster_id"] != laptop["cluster_id"]

    # The laptop subscribes with a messy spelling of the email.
    api.collect({"method": "track", "eventName": "Subscribed To Newsletter",
                 "profileProperties": {"$first_name": "John"},
                 "aliases": ["urn:email:John.Smith@Apple.com "]}, cookie="laptop")

    # The backend starts a subscription for the same email and customer 42.
    started = api.webhook({"event_name": "Started Subscription", "properties": {"plan": "pro"},
                           "profile_properties": {"$last_name": "Smith"},
                           "aliases": ["urn:email:john.smith@apple.com",
                                       "urn:customer_id:42"]})
    # Matched through the email; the backend's write keeps a profile of its own, since a
    # browser's claim is never where trusted evidence lands (docs/security.md).
    assert started["cluster_id"] == api.cluster_of("urn:cookie:laptop")["cluster_id"]
    assert started["profile_id"] != laptop["profile_id"]

    # A checkout on another domain: a third cookie, linked only by the checkout token.
    checkout = api.collect({"method": "set", "aliases": ["urn:checkout:C9"]}, cookie="checkout")
    assert checkout["cluster_id"] != laptop["cluster_id"]

    # The backend places order X01 with the checkout token and the customer id...
    order = api.webhook({"event_name": "Placed Order", "properties": {"total": 99.5},
                         "event_id": "X01",
                         "aliases": ["urn:checkout:C9", "urn:customer_id:42"]})
    assert order["deduplicated"] is False
    # ...and the checkout page reports the same order.
    again = api.collect({"method": "forward", "eventName": "Placed Order", "properties": {},
                         "eventID": "X01"}, cookie="checkout")
    assert again["deduplicated"] is True

    john = api.cluster_of("urn:customer_id:42")
    assert {p["profile_id"] for p in john["profiles"]} == {
        laptop["profile_id"], started["profile_id"], checkout["profile_id"]}
    assert john["aliases"] == sorted([
        "urn:checkout:C9", "urn:cookie:checkout", "urn:cookie:laptop", "urn:customer_id:42",
        "urn:email:john.smith@apple.com"])
    assert john["merged_properties"] == {"$first_name": "John", "$last_name": "Smith"}
    assert john["event_count"] == 4  # two on the laptop, the subscription, one order

    # The phone stays alone.
    alone = api.cluster_of("urn:cookie:phone")
    assert [p["profile_id"] for p in alone["profiles"]] == [phone["profile_id"]]
    assert alone["cluster_id"] != john["cluster_id"]

    # One Placed Order event, stored once, with its evidence on each SAME_AS edge.
    assert rows(api, "MATCH (e:Event {event_name: 'Placed Order'}) RETURN e.event_id AS id, "
                     "e.`prop.total` AS total") == [{"id": "X01", "total": 99.5}]
    links = rows(api, """
        MATCH (a:Profile)-[s:SAME_AS]->(b:Profile)
        RETURN a.profile_id AS source, b.profile_id AS target, s.via AS via, s.reason AS reason,
               s.event_id AS event_id, s.trust AS trust ORDER BY s.created_at""")
    # The subscription joined the laptop by the email the laptop claimed; the order arrived
    # on the backend's profile (customer_id is strongest) and shared the checkout token with
    # the checkout profile: that token is the evidence. Both are browser claims.
    assert [(k["source"], k["target"], k["via"], k["reason"], k["trust"]) for k in links] == [
        (started["profile_id"], laptop["profile_id"], ["urn:email:john.smith@apple.com"],
         "shared_alias", "claim"),
        (started["profile_id"], checkout["profile_id"], ["urn:checkout:C9"], "shared_alias",
         "claim")]
    assert links[1]["event_id"] == "X01"

    # The timeline spans devices and datasources, newest first, page by page.
    page = api.get(f"/v1/clusters/{john['cluster_id']}/events", limit=3)
    assert len(page["events"]) == 3 and page["next"]
    rest = api.get(f"/v1/clusters/{john['cluster_id']}/events", limit=3, before=page["next"])
    assert rest["next"] is None
    timeline = page["events"] + rest["events"]
    assert [e["event_name"] for e in timeline][0] == "Placed Order"
    assert {e["datasource"] for e in timeline} == {"shop-web", "shop-backend"}
    stamps = [e["timestamp"] for e in timeline]
    assert stamps == sorted(stamps, reverse=True)

    # Server-side enrichment: the order carries the person's merged profile.
    enriched = api.get("/v1/events/X01")
    assert enriched["cluster_id"] == john["cluster_id"]
    assert enriched["profile_properties"] == {"$first_name": "John", "$last_name": "Smith"}


def test_browser_order_first_then_server_order_joins_by_shared_event(api):
    browser = api.collect({"method": "forward", "eventName": "Placed Order", "eventID": "X77"},
                          cookie="b1")
    server = api.webhook({"event_name": "Placed Order", "event_id": "X77",
                          "aliases": ["urn:customer_id:77"]})
    assert server["deduplicated"] is True
    cluster = api.cluster_of("urn:customer_id:77")
    assert server["cluster_id"] == cluster["cluster_id"]
    assert {p["profile_id"] for p in cluster["profiles"]} == {
        browser["profile_id"], server["profile_id"]}
    assert [(link["reason"], link["via"], link["event_id"]) for link in cluster["links"]] == [
        ("shared_event", [], "X77")]
