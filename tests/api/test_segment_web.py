"""analytics.js's wire format with a web datasource's public token (docs/segment.md):
text/plain JSON, the key in the body, one-letter routes, the settings route and CORS."""

from __future__ import annotations

import json
import uuid

from tests.conftest import Api

ORIGIN = "https://shop.example"


def js_post(api: Api, path: str, body: dict, origin: str = ORIGIN):
    """What analytics.js's fetch sends: JSON as text/plain, writeKey in the body."""
    return api.client.post(path, content=json.dumps(body), headers={
        "Content-Type": "text/plain", "Origin": origin})


def test_settings_point_analytics_js_at_this_host(api: Api):
    resp = api.client.get(f"/v1/projects/{api.web['token']}/settings",
                          headers={"Origin": ORIGIN})
    assert resp.status_code == 200, resp.text
    segment = resp.json()["integrations"]["Segment.io"]
    assert segment["apiKey"] == api.web["token"]
    assert (segment["protocol"], segment["apiHost"]) == ("http", "testserver/v1")
    assert resp.headers["access-control-allow-origin"] == ORIGIN


def test_settings_refuse_a_webhook_secret(api: Api):
    resp = api.client.get(f"/v1/projects/{api.hook['token']}/settings")
    assert resp.status_code == 401 and resp.json()["code"] == "unauthorized"


def test_preflight_on_the_short_routes_allows_any_origin(api: Api):
    resp = api.client.options("/v1/t", headers={
        "Origin": "https://elsewhere.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,authorization"})
    assert resp.status_code == 204
    assert resp.headers["access-control-allow-origin"] == "https://elsewhere.example"
    assert "Authorization" in resp.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in resp.headers


def test_short_routes_store_events_with_the_key_in_a_text_plain_body(api: Api):
    ids = {path: str(uuid.uuid4()) for path in ("/v1/p", "/v1/t", "/v1/i")}
    anon = "ajs-" + uuid.uuid4().hex
    bodies = {
        "/v1/p": {"type": "page", "name": "Home", "properties": {"path": "/"}},
        "/v1/t": {"type": "track", "event": "Added To Cart", "properties": {"sku": "X1"}},
        "/v1/i": {"type": "identify", "traits": {"email": "web@shop.io"}},
    }
    for path, body in bodies.items():
        resp = js_post(api, path, {**body, "anonymousId": anon, "messageId": ids[path],
                                   "writeKey": api.web["token"],
                                   "sentAt": "2026-01-01T00:00:00.000Z",
                                   "timestamp": "2026-01-01T00:00:00.000Z"})
        assert resp.status_code == 200, resp.text
        assert resp.headers["access-control-allow-origin"] == ORIGIN
    cluster = api.cluster_of(f"urn:anonymous_id:{anon}")
    assert "urn:email:web@shop.io" in cluster["aliases"]
    assert cluster["event_count"] == 3
    assert api.get(f"/v1/events/{ids['/v1/t']}")["event_name"] == "Added To Cart"


def test_the_batching_route_takes_the_web_key_and_the_metrics_route_discards(api: Api):
    anon = "ajs-" + uuid.uuid4().hex
    batch = [{"type": "track", "event": f"E{i}", "anonymousId": anon} for i in range(3)]
    resp = js_post(api, "/v1/b", {"batch": batch, "writeKey": api.web["token"],
                                  "sentAt": "2026-01-01T00:00:00.000Z"})
    assert resp.status_code == 200, resp.text
    assert api.cluster_of(f"urn:anonymous_id:{anon}")["event_count"] == 3
    before = api.counts()
    resp = js_post(api, "/v1/m", {"series": [{"type": "Counter", "metric": "x", "value": 1}]})
    assert resp.status_code == 200 and api.counts() == before


def test_a_webhook_secret_is_refused_on_the_browser_routes(api: Api):
    for path in ("/v1/t", "/v1/b"):
        body = {"type": "track", "event": "E", "anonymousId": "a"}
        if path == "/v1/b":
            body = {"batch": [body]}
        resp = js_post(api, path, {**body, "writeKey": api.hook["token"]})
        assert resp.status_code == 401, resp.text
        assert resp.json()["code"] == "unauthorized"
    assert api.counts().get("Event", 0) == 0


def test_a_public_web_key_is_refused_on_the_server_routes(api: Api):
    """The web token is in every page's source: it must not reach server semantics."""
    for path in ("/v1/track", "/v1/batch", "/v1/import"):
        body = {"type": "track", "event": "E", "anonymousId": "a"}
        if path != "/v1/track":
            body = {"batch": [body]}
        resp = js_post(api, path, {**body, "writeKey": api.web["token"]})
        assert resp.status_code == 401, resp.text
    assert api.counts().get("Event", 0) == 0


def test_a_refusal_on_a_browser_route_is_readable_by_the_page(api: Api):
    """Else analytics.js sees a network error and retries what can never succeed."""
    resp = js_post(api, "/v1/t", {"type": "track", "event": "E", "anonymousId": "a",
                                  "writeKey": "unknown"})
    assert resp.status_code == 401
    assert resp.headers["access-control-allow-origin"] == ORIGIN


def test_a_web_source_listing_origins_refuses_other_pages_and_writes_nothing(api: Api):
    service = api.client.app.state.service
    listed = service.add_source("listed-shop", "web", origins=[ORIGIN])
    body = {"type": "track", "event": "E", "anonymousId": "a-origin",
            "writeKey": listed["token"]}
    refused = js_post(api, "/v1/t", body, origin="https://evil.example")
    assert refused.status_code == 403 and refused.json()["code"] == "origin_not_allowed"
    assert api.counts().get("Event", 0) == 0
    allowed = js_post(api, "/v1/t", body)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
