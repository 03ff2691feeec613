"""Per-datasource CORS of the browser routes: a shop's pages on another origin may call
/v1/collect when its web source allows their Origin (any, when it lists none); a page on
an origin it does not list is refused on the preflight and the POST, writes nothing, and is
counted. /v1/cvg.js loads from anywhere and revalidates with a strong ETag."""

from __future__ import annotations

import gzip
import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

SHOP = "https://shop.example"
CHECKOUT = "https://checkout.example"
EVIL = "https://evil.example"


def preflight(api, token: str, origin: str, method: str = "POST"):
    return api.client.options(f"/v1/collect/{token}", headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "content-type"})


def post(api, token: str, origin: str | None, body: dict, content_type="application/json"):
    api.client.cookies.clear()
    headers = {"Content-Type": content_type, **({"Origin": origin} if origin else {})}
    return api.client.post(f"/v1/collect/{token}", content=json.dumps(body), headers=headers)


def refused_count(api) -> float:
    text = api.client.get("/metrics").text
    return next((s.value for f in text_string_to_metric_families(text) for s in f.samples
                 if s.name == "cors_refused_total"), 0.0)


@pytest.fixture
def listed(api) -> dict:
    """A web source that accepts the shop and its checkout only."""
    return api.client.app.state.service.add_source("shop", "web", [SHOP, CHECKOUT + "/"])


def test_a_source_listing_no_origins_accepts_a_preflight_from_any_origin(api):
    for origin in (SHOP, EVIL, "http://localhost:5173"):
        resp = preflight(api, api.web["token"], origin)
        assert resp.status_code == 204, resp.text
        assert resp.headers["access-control-allow-origin"] == origin
        assert "POST" in resp.headers["access-control-allow-methods"]
        assert resp.headers["access-control-allow-headers"].lower() == "content-type"
        assert "access-control-allow-credentials" not in resp.headers
        assert "Origin" in resp.headers["vary"]


def test_a_listed_origin_is_allowed_and_its_post_is_stored(api, listed):
    assert preflight(api, listed["token"], CHECKOUT).status_code == 204
    resp = post(api, listed["token"], CHECKOUT, {
        "method": "track", "eventName": "Placed Order", "eventID": "O-1",
        "aliases": ["urn:checkout:C1"], "cookieId": "visitor-1"})
    assert resp.status_code == 200, resp.text
    assert resp.headers["access-control-allow-origin"] == CHECKOUT
    assert "access-control-allow-credentials" not in resp.headers
    assert api.counts()["Event"] == 1


def test_an_unlisted_origin_is_refused_on_preflight_and_post_writing_nothing(api, listed):
    before, counts = refused_count(api), api.counts()
    pre = preflight(api, listed["token"], EVIL)
    resp = post(api, listed["token"], EVIL, {
        "method": "track", "eventName": "Placed Order", "aliases": ["urn:email:victim@x.com"]})
    for refused in (pre, resp):
        assert refused.status_code == 403
        error = refused.json()["error"]
        assert error["code"] == "origin_not_allowed" and error["field"] == "Origin"
        assert f"converge-graph sources origins shop --add {EVIL}" in error["message"]
    assert "access-control-allow-origin" not in pre.headers
    assert api.counts() == counts
    assert refused_count(api) == before + 2


def test_a_beacon_sent_as_text_plain_without_preflight_is_held_to_the_same_origins(
        api, listed):
    body = {"method": "track", "eventName": "Left Page", "cookieId": "visitor-2"}
    assert post(api, listed["token"], EVIL, body, "text/plain;charset=UTF-8").status_code == 403
    assert api.counts().get("Event", 0) == 0
    resp = post(api, listed["token"], SHOP, body, "text/plain;charset=UTF-8")
    assert resp.status_code == 200, resp.text
    assert api.counts()["Event"] == 1


def test_a_preflight_with_an_unknown_token_is_401_and_a_webhook_token_403(api):
    resp = preflight(api, "cvg_web_nope", SHOP)
    assert resp.status_code == 401
    assert resp.json()["error"]["field"] == "token"
    resp = preflight(api, api.hook["token"], SHOP)
    assert resp.status_code == 403
    assert "web datasource" in resp.json()["error"]["message"]


def test_route_errors_reach_the_page_with_cors_headers(api, listed):
    resp = post(api, listed["token"], SHOP, {"method": "track"})
    assert resp.status_code == 422
    assert resp.headers["access-control-allow-origin"] == SHOP
    resp = post(api, "cvg_web_nope", SHOP, {"method": "track", "eventName": "X"})
    assert resp.status_code == 401
    assert resp.headers["access-control-allow-origin"] == SHOP


def test_servers_without_an_origin_header_are_not_held_to_origins(api, listed):
    resp = post(api, listed["token"], None, {"method": "track", "eventName": "Imported",
                                             "cookieId": "visitor-3"})
    assert resp.status_code == 200, resp.text
    assert "access-control-allow-origin" not in resp.headers


def test_editing_origins_takes_effect_in_this_process(api, listed):
    service = api.client.app.state.service
    assert preflight(api, listed["token"], EVIL).status_code == 403
    row = service.edit_origins("shop", add=[EVIL], remove=[SHOP])
    assert row["origins"] == [CHECKOUT, EVIL]
    assert preflight(api, listed["token"], EVIL).status_code == 204
    assert preflight(api, listed["token"], SHOP).status_code == 403
    service.edit_origins("shop", remove=[CHECKOUT, EVIL])
    assert preflight(api, listed["token"], SHOP).status_code == 204  # none listed: any


def test_the_sdk_loads_from_any_origin_and_revalidates_with_a_strong_etag(api):
    pre = api.client.options("/v1/cvg.js", headers={
        "Origin": EVIL, "Access-Control-Request-Method": "GET"})
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "*"
    plain = api.client.get("/v1/cvg.js", headers={"Accept-Encoding": "identity",
                                                   "Origin": SHOP})
    assert plain.status_code == 200
    assert plain.headers["access-control-allow-origin"] == "*"
    assert plain.headers["content-type"].startswith("application/javascript")
    assert "max-age" in plain.headers["cache-control"]
    etag = plain.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert "window.cvg" in plain.text
    again = api.client.get("/v1/cvg.js", headers={"If-None-Match": etag,
                                                  "Accept-Encoding": "identity"})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    stale = api.client.get("/v1/cvg.js", headers={"If-None-Match": '"old"',
                                                  "Accept-Encoding": "identity"})
    assert stale.status_code == 200


def test_the_gzipped_sdk_has_its_own_etag_and_stays_small(api):
    raw = api.client.get("/v1/cvg.js", headers={"Accept-Encoding": "identity"})
    zipped = api.client.stream("GET", "/v1/cvg.js", headers={"Accept-Encoding": "gzip"})
    with zipped as resp:
        assert resp.headers["content-encoding"] == "gzip"
        body = b"".join(resp.iter_raw())
        etag = resp.headers["etag"]
    assert etag != raw.headers["etag"]
    assert gzip.decompress(body) == raw.content
    assert len(body) < 4096, f"cvg.js is {len(body)} bytes gzipped"
    refused = api.client.get("/v1/cvg.js", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers
    assert refused.headers["etag"] == raw.headers["etag"]


def test_the_global_cors_setting_adds_no_second_allow_origin_to_collect(neo4j_settings, api):
    """CVG_CORS_ORIGINS serves the read API; on /v1/collect two Access-Control-Allow-Origin
    headers, or credentials, would make browsers drop the answer."""
    from fastapi.testclient import TestClient

    from converge_graph.api import create_app

    settings = neo4j_settings.model_copy(update={"cors_origins": [SHOP]})
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        for resp in (
            client.options(f"/v1/collect/{api.web['token']}", headers={
                "Origin": SHOP, "Access-Control-Request-Method": "POST"}),
            client.post(f"/v1/collect/{api.web['token']}", headers={"Origin": SHOP},
                        json={"method": "track", "eventName": "Seen", "cookieId": "v-9"}),
        ):
            assert resp.status_code in (200, 204), resp.text
            assert resp.headers.get_list("access-control-allow-origin") == [SHOP]
            assert "access-control-allow-credentials" not in resp.headers
