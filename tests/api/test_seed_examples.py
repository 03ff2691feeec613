"""Every example of the seed document, posted verbatim, and the graph each one leaves.

JavaScript examples go to /v1/collect (what cvg.js sends for `cvg({...})`), Python
examples to /v1/webhook/{token} (the seed's `{YOUR_POSTBACK_ENDPOINT}`).
"""

from __future__ import annotations

import json

NEWSLETTER_JS = {
    "method": "track",
    "eventName": "Subscribed To Newsletter",
    "properties": {"formId": "your-form-id"},
    "profileProperties": {
        "$email": "john.smith@apple.com",
        "$first_name": "John",
        "$last_name": "Smith",
        "$phone_number": "+199999999",
    },
}
NEWSLETTER_PY = {
    "event_name": "Subscribed To Newsletter",
    "properties": {"formId": "your-form-id"},
    "profile_properties": {
        "$email": "john.smith@apple.com",
        "$first_name": "John",
        "$last_name": "Smith",
        "$phone_number": "+199999999",
    },
}
ORDER_JS = {"method": "forward", "eventName": "Placed Order", "properties": {}, "eventID": "X01"}
ORDER_PY = {"event_name": "Placed Order", "properties": {}, "profile_properties": {},
            "event_id": "XO1"}
ALIAS_JS = {"method": "track", "eventName": "Subscribed To Newsletter", "properties": {},
            "profileProperties": {}, "aliases": ["urn:email:john.smith@apple.com"]}
ALIAS_PY = {"event_name": "Subscribed To Newsletter", "properties": {}, "profile_properties": {},
            "aliases": ["urn:email:john.smith@apple.com"]}


def one(api, query: str, **params):
    records, _, _ = api.driver.execute_query(query, params)
    return [r.data() for r in records]


def test_js_profile_properties_land_on_the_browser_profile(api):
    result = api.collect(NEWSLETTER_JS, cookie="browser-1")
    rows = one(api, """
        MATCH (a:Alias {urn: 'urn:cookie:browser-1'})<-[:HAS_ALIAS]-(p:Profile)
              -[:PERFORMED]->(e:Event)-[:FROM]->(d:Datasource)
        RETURN p.profile_id AS pid, p.`$email` AS email, p.`$first_name` AS first,
               p.`$phone_number` AS phone, e.event_name AS name, e.method AS method,
               e.`prop.formId` AS form, d.kind AS kind""")
    assert rows == [{"pid": result["profile_id"], "email": "john.smith@apple.com",
                     "first": "John", "phone": "+199999999", "name": "Subscribed To Newsletter",
                     "method": "track", "form": "your-form-id", "kind": "web"}]


def test_python_example_without_aliases_makes_a_profile_of_its_own(api):
    first = api.webhook(NEWSLETTER_PY)
    second = api.webhook(NEWSLETTER_PY)
    # Nothing identifies the sender: each write starts a profile and nothing links them.
    assert first["profile_id"] != second["profile_id"]
    assert first["cluster_id"] != second["cluster_id"]
    event = api.get(f"/v1/events/{first['event_id']}")
    assert event["properties"] == {"formId": "your-form-id"}
    assert event["profile_properties"]["$last_name"] == "Smith"
    assert one(api, "MATCH (p:Profile) RETURN count(p) AS n") == [{"n": 2}]
    assert one(api, "MATCH ()-[s:SAME_AS]->() RETURN count(s) AS n") == [{"n": 0}]


def test_js_forward_with_event_id_is_stored_once_under_that_id(api):
    first = api.collect(ORDER_JS, cookie="browser-1")
    again = api.collect(ORDER_JS, cookie="browser-1")
    assert (first["event_id"], first["deduplicated"]) == ("X01", False)
    assert (again["event_id"], again["deduplicated"]) == ("X01", True)
    rows = one(api, "MATCH (e:Event) RETURN e.event_id AS id, e.method AS method, "
                    "e.duplicates AS dups")
    assert rows == [{"id": "X01", "method": "forward", "dups": 1}]


def test_python_order_xo1_is_not_the_browser_order_x01(api):
    api.collect(ORDER_JS, cookie="browser-1")
    result = api.webhook(ORDER_PY)
    assert (result["event_id"], result["deduplicated"]) == ("XO1", False)
    rows = one(api, "MATCH (e:Event) RETURN e.event_id AS id ORDER BY id")
    assert [r["id"] for r in rows] == ["X01", "XO1"]
    assert one(api, "MATCH ()-[s:SAME_AS]->() RETURN count(s) AS n") == [{"n": 0}]


def test_js_alias_attaches_to_the_cookie_profile(api):
    result = api.collect(ALIAS_JS, cookie="browser-1")
    rows = one(api, """
        MATCH (p:Profile)-[:HAS_ALIAS]->(a:Alias)
        WITH p, a ORDER BY a.urn
        RETURN p.profile_id AS pid, collect(a.urn) AS urns""")
    assert rows == [{"pid": result["profile_id"],
                     "urns": ["urn:cookie:browser-1", "urn:email:john.smith@apple.com"]}]


def test_python_alias_joins_the_browser_profile_by_email(api):
    browser = api.collect(ALIAS_JS, cookie="browser-1")
    server = api.webhook(ALIAS_PY)
    # The server-side write joins the profile already holding the email; it keeps a
    # profile of its own, as a browser's claim is never where trusted evidence lands.
    cluster = api.cluster_of("urn:email:john.smith@apple.com")
    assert server["cluster_id"] == browser["cluster_id"] == cluster["cluster_id"]
    assert cluster["event_count"] == 2
    assert [p["profile_id"] for p in cluster["profiles"]] == [browser["profile_id"],
                                                              server["profile_id"]]


def test_js_set_adds_a_checkout_alias_without_an_event(api):
    checkout_id = "C-123"
    result = api.collect({"method": "set", "aliases": [f"urn:checkout:{checkout_id}"]},
                         cookie="checkout-browser")
    assert result["event_id"] is None and result["deduplicated"] is False
    assert one(api, "MATCH (e:Event) RETURN count(e) AS n") == [{"n": 0}]
    cluster = api.cluster_of("urn:checkout:C-123")
    assert cluster["aliases"] == ["urn:checkout:C-123", "urn:cookie:checkout-browser"]


def test_webhook_token_in_header_works_like_the_url(api):
    resp = api.client.post("/v1/webhook", json=ALIAS_PY,
                           headers={"X-Webhook-Token": api.hook["token"]})
    assert resp.status_code == 200, resp.text
    assert json.loads(resp.text)["profile_id"]
