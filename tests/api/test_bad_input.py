"""Bad input (docs/api.md#errors, #limits): every rejection names the field and writes nothing.

One table drives both ingestion routes. Each row is sent to the webhook route and to the
browser collector, in that route's own field names, and must answer the given status with
``{"error": {"code", "message", "field"}}`` naming the field, leaving node and
relationship counts exactly as they were.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import pytest

HOSTILE_KEY = "a`}) DETACH DELETE n //"

# The two routes' spellings of the same thing.
NAMES = {
    "webhook": {"event_name": "event_name", "properties": "properties",
                "profile": "profile_properties", "event_id": "event_id"},
    "collect": {"event_name": "eventName", "properties": "properties",
                "profile": "profileProperties", "event_id": "eventID"},
}
FOREIGN = {"webhook": "profileProperties", "collect": "profile_properties"}


def valid(route: str) -> dict[str, Any]:
    n = NAMES[route]
    body = {n["event_name"]: "Viewed Product", n["properties"]: {"sku": "A1"},
            "aliases": ["urn:email:jane@shop.com"]}
    if route == "collect":
        body |= {"method": "track", "cookieId": "browser-1"}
    return body


def nested(levels: int) -> dict[str, Any]:
    value: Any = "leaf"
    for _ in range(levels):
        value = {"k": value}
    return value


@dataclass
class Bad:
    """One bad request: how to spoil a valid body (or the raw bytes), and what must come back."""

    spoil: Any = None  # route -> body dict, or route -> bytes
    status: int = 422
    field: str | Any = "body"  # a string, or route -> string
    token: str = "own"  # own | unknown | other-kind | missing
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    route: str | None = None  # only for this route


def with_(key: str, value: Any):
    """The valid body with one of its fields (by role or literal name) replaced."""
    def spoil(route: str) -> dict[str, Any]:
        return {**valid(route), NAMES[route].get(key, key): value}
    return spoil


def named(key: str):
    return lambda route: NAMES[route].get(key, key)


def raw(text: bytes):
    return lambda route: text


def literal(key: str, json_text: str):
    """The valid body with ``key`` set to JSON text that json.dumps would never write."""
    def spoil(route: str) -> bytes:
        body = json.dumps({**valid(route), NAMES[route].get(key, key): "__HERE__"})
        return body.replace('"__HERE__"', json_text).encode()
    return spoil


CASES: dict[str, Bad] = {
    "malformed JSON": Bad(raw(b'{"aliases": ["urn:email:jane@shop.com"],'), 400),
    "invalid UTF-8": Bad(raw(b'{"aliases": ["urn:cookie:\xff\xfe"]}'), 400),
    "JSON that is not an object": Bad(raw(b'["urn:email:jane@shop.com"]'), 422),
    "properties as a list": Bad(with_("properties", ["sku", "A1"]), 422, named("properties")),
    "profile properties as a string": Bad(with_("profile", "jane"), 422, named("profile")),
    "aliases as a string": Bad(with_("aliases", "urn:email:jane@shop.com"), 422, "aliases"),
    "alias that is a number": Bad(with_("aliases", [42]), 422, "aliases[0]"),
    "unknown method": Bad(with_("method", "merge"), 422, "method"),
    "event id as a list": Bad(with_("event_id", ["X01"]), 422, named("event_id")),
    "event id true": Bad(with_("event_id", True), 422, named("event_id")),
    "URN mailto:x": Bad(with_("aliases", ["mailto:x"]), 422, "aliases[0]"),
    "URN urn::x": Bad(with_("aliases", ["urn:email:jane@shop.com", "urn::x"]), 422, "aliases[1]"),
    "URN urn:email:": Bad(with_("aliases", ["urn:cookie:c", "urn:email:jane@shop.com",
                                            "urn:email:"]), 422, "aliases[2]"),
    "11 aliases": Bad(with_("aliases", [f"urn:cart:c{i}" for i in range(11)]), 422, "aliases"),
    "key of 257 characters": Bad(with_("profile", {"k" * 257: 1}), 422, named("profile")),
    "nested key of 257 characters": Bad(with_("properties", {"a": [{"k" * 257: 1}]}), 422,
                                        named("properties")),
    "nesting of 11 levels": Bad(with_("properties", nested(11)), 422, named("properties")),
    "NaN": Bad(literal("properties", '{"n": NaN}'), 422, named("properties")),
    "Infinity": Bad(literal("profile", '{"n": [-Infinity]}'), 422, named("profile")),
    "lone surrogate in a property": Bad(literal("properties", '{"s": ["\\ud800"]}'), 422,
                                        named("properties")),
    "naive timestamp": Bad(with_("timestamp", "2024-05-01T12:00:00"), 422, "timestamp"),
    "timestamp that is no time": Bad(with_("timestamp", "yesterday"), 422, "timestamp"),
    "timestamp past 9999 in UTC": Bad(with_("timestamp", "9999-12-31T23:59:59-01:00"), 422,
                                      "timestamp"),
    "unknown top-level field": Bad(lambda r: {**valid(r), FOREIGN[r]: {"$email": "j@s.com"}},
                                   422, lambda r: FOREIGN[r]),
    "body over 64 KiB": Bad(with_("properties", {"blob": "x" * (64 * 1024)}), 413),
    "unknown token": Bad(valid, 401, "token", token="unknown"),
    "token of the other kind of source": Bad(valid, 403, "token", token="other-kind"),
    "missing X-Webhook-Token": Bad(valid, 401, "X-Webhook-Token", token="missing",
                                   route="webhook"),
    "unknown X-Webhook-Token": Bad(valid, 401, "X-Webhook-Token", token="missing",
                                   headers={"X-Webhook-Token": "cvg_hook_nope"}, route="webhook"),
    "read key as X-Webhook-Token": Bad(valid, 401, "X-Webhook-Token", token="read-key-header",
                                       route="webhook"),
    "consent without a choice": Bad(lambda r: {"method": "consent", "cookieId": "b1"}, 422,
                                    route="collect"),
    "cookie id with a semicolon": Bad(with_("cookieId", "a;b=c"), 422, "cookieId",
                                      route="collect"),
}
ROWS = [
    pytest.param(route, case, id=f"{route}: {name}")
    for name, case in CASES.items()
    for route in ("webhook", "collect")
    if case.route in (None, route)
]


def request_for(api, route: str, case: Bad) -> dict[str, Any]:
    own = api.hook if route == "webhook" else api.web
    other = api.web if route == "webhook" else api.hook
    token = {"own": own["token"], "unknown": "cvg_hook_unknown0000", "other-kind": other["token"],
             "missing": None, "read-key-header": None}[case.token]
    if token is not None:
        url = f"/v1/{route}/{token}"
    else:
        url = "/v1/webhook"
    headers = {"Content-Type": "application/json", **case.headers}
    if case.token == "read-key-header":
        headers["X-Webhook-Token"] = api.read_key
    body = case.spoil(route)
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return {"url": url, "content": content, "headers": headers}


@pytest.mark.parametrize("route, case", ROWS)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(api, route, case):
    before = api.counts()
    api.client.cookies.clear()
    resp = api.client.post(**request_for(api, route, case))

    assert resp.status_code == case.status, resp.text
    assert resp.headers["content-type"].startswith("application/json")
    error = resp.json()["error"]
    expected_field = case.field(route) if callable(case.field) else case.field
    assert error["field"] == expected_field, error
    assert error["code"] and len(error["message"]) > 10
    assert "Traceback" not in error["message"]
    assert api.counts() == before
    assert "set-cookie" not in resp.headers  # a refused browser call issues no id either


@pytest.mark.parametrize("route", ["webhook", "collect"])
def test_the_valid_body_the_table_spoils_is_accepted(api, route):
    """The control for the table: without the spoiling, the same request is written."""
    before = api.counts()
    result = (api.webhook if route == "webhook" else api.collect)(valid(route))
    assert result["ignored_aliases"] == []
    assert api.counts()["Event"] == before.get("Event", 0) + 1


@pytest.mark.parametrize("route", ["webhook", "collect"])
def test_limits_themselves_are_allowed(api, route):
    n = NAMES[route]
    ten = ["urn:customer_id:c1", "urn:email:jane@shop.com", "urn:phone:+14155552671",
           "urn:checkout:k1", "urn:checkout:k2", "urn:cart:k1", "urn:cart:k2", "urn:loyalty:l1",
           "urn:device:d1", "urn:device:d2"]
    body = {**valid(route), "aliases": ten,
            n["profile"]: {"k" * 256: "ok", "deep": nested(9)},
            n["properties"]: nested(10), "timestamp": 1714564800}
    if route == "collect":  # a strong id from the browser counts only signed
        body["signatures"] = {"urn:customer_id:c1": api.sign("urn:customer_id:c1")}
    result = (api.webhook if route == "webhook" else api.collect)(body)
    profile = api.get(f"/v1/profiles/{result['profile_id']}")
    assert profile["properties"] == {"k" * 256: "ok", "deep": nested(9)}
    assert set(ten) <= set(profile["aliases"])
    assert result["ignored_aliases"] == []
    event = api.get(f"/v1/events/{result['event_id']}")
    assert event["properties"] == nested(10)
    assert event["timestamp"].startswith("2024-05-01T12:00:00")


def test_ignored_aliases_are_reported_and_the_event_still_kept(api):
    result = api.webhook({"event_name": "Signed Up", "aliases": [
        "urn:email:test@test.com", "urn:customer_id:undefined", "urn:phone:12",
        "urn:email:a@b.co"]})
    assert [i["alias"] for i in result["ignored_aliases"]] == [
        "urn:email:test@test.com", "urn:customer_id:undefined", "urn:phone:12"]
    assert all(i["reason"] for i in result["ignored_aliases"])
    assert api.get(f"/v1/profiles/{result['profile_id']}")["aliases"] == ["urn:email:a@b.co"]
    assert api.counts()["Event"] == 1


# -- property keys are data --------------------------------------------------------------------


def test_property_key_that_looks_like_cypher_is_stored_verbatim_and_harms_nothing(api):
    api.webhook({"event_name": "Warm Up", "aliases": ["urn:customer_id:7"]})
    before = api.counts()
    result = api.webhook({
        "event_name": "Placed Order", "event_id": "O-1", "aliases": ["urn:customer_id:7"],
        "properties": {HOSTILE_KEY: "evt", "nested": {HOSTILE_KEY: [1]}},
        "profile_properties": {HOSTILE_KEY: "prf"},
    })
    after = api.counts()
    assert after["Event"] == before["Event"] + 1
    assert after["Profile"] == before["Profile"] and after["Alias"] == before["Alias"]
    assert after["Datasource"] == before["Datasource"]

    profile = api.get(f"/v1/profiles/{result['profile_id']}")
    assert profile["properties"] == {HOSTILE_KEY: "prf"}
    event = api.get(f"/v1/events/{result['event_id']}")
    assert event["properties"] == {HOSTILE_KEY: "evt", "nested": {HOSTILE_KEY: [1]}}
    assert event["profile_properties"] == {HOSTILE_KEY: "prf"}

    records, _, _ = api.driver.execute_query(
        "MATCH (p:Profile {profile_id: $pid})-[:PERFORMED]->(e:Event {event_id: 'O-1'}) "
        "RETURN p[$key] AS on_profile, e[$prop] AS on_event",
        pid=result["profile_id"], key=HOSTILE_KEY, prop=f"prop.{HOSTILE_KEY}")
    assert [r.data() for r in records] == [{"on_profile": "prf", "on_event": "evt"}]


def test_values_neo4j_cannot_hold_natively_are_kept_losslessly(api):
    props = {"big": 2**70, "": "empty key", "nul\x00key": 1, "list": [1, 2**64]}
    result = api.webhook({"event_name": "Odd", "properties": props, "profile_properties": props})
    assert api.get(f"/v1/events/{result['event_id']}")["properties"] == props
    assert api.get(f"/v1/profiles/{result['profile_id']}")["properties"] == props


# -- reads -------------------------------------------------------------------------------------


def _auth(api, kind: str) -> dict[str, str]:
    secret = {"none": None, "unknown": "cvg_read_unknown", "webhook token": api.hook["token"],
              "web token": api.web["token"], "empty": ""}[kind]
    return {} if secret is None else {"Authorization": f"Bearer {secret}"}


@pytest.mark.parametrize("kind", ["none", "unknown", "webhook token", "web token", "empty"])
@pytest.mark.parametrize("path", ["/v1/clusters/lookup?alias=urn:customer_id:7",
                                  "/v1/clusters/{cluster}", "/v1/clusters/{cluster}/events",
                                  "/v1/profiles/{profile}", "/v1/events/{event}"])
def test_reads_need_a_read_key(api, kind, path):
    written = api.webhook({"event_name": "Seen", "aliases": ["urn:customer_id:7"]})
    url = path.format(cluster=written["cluster_id"], profile=written["profile_id"],
                      event=written["event_id"])
    resp = api.client.get(url, headers=_auth(api, kind))
    assert resp.status_code == 401, resp.text
    assert resp.json()["error"]["field"] == "Authorization"
    assert written["profile_id"] not in resp.text
    assert api.client.get(url, headers=api.read).status_code == 200  # the control


@pytest.mark.parametrize("path, field", [
    ("/v1/clusters/clu_nope", "cluster_id"),
    ("/v1/profiles/prf_nope", "profile_id"),
    ("/v1/events/evt_nope", "event_id"),
    ("/v1/clusters/lookup?alias=urn:customer_id:nobody", "alias"),
])
def test_unknown_ids_are_404_naming_the_field(api, path, field):
    resp = api.client.get(path, headers=api.read)
    assert resp.status_code == 404, resp.text
    assert resp.json()["error"]["field"] == field


@pytest.mark.parametrize("alias", ["mailto:x", "urn::x", "urn:email:"])
def test_lookup_of_a_malformed_urn_is_422_naming_alias(api, alias):
    resp = api.client.get("/v1/clusters/lookup", params={"alias": alias}, headers=api.read)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["field"] == "alias"


@pytest.mark.parametrize("query, field", [
    ({}, "alias"), ({"alias": "urn:customer_id:7", "limit": "0"}, "limit"),
    ({"alias": "urn:customer_id:7", "limit": "many"}, "limit"),
    ({"alias": "urn:customer_id:7", "trust": "some"}, "trust"),
])
def test_bad_lookup_parameters_are_422_naming_them(api, query, field):
    api.webhook({"event_name": "Seen", "aliases": ["urn:customer_id:7"]})
    resp = api.client.get("/v1/clusters/lookup", params=query, headers=api.read)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["field"] == field


def test_the_lookup_publishes_its_parameters_and_key():
    """The lean lookup route (api/lean.py) keeps the OpenAPI entry FastAPI would write."""
    from converge_graph.api import create_app
    from converge_graph.settings import Settings

    entry = create_app(Settings()).openapi()["paths"]["/v1/clusters/lookup"]["get"]
    params = {p["name"]: p for p in entry["parameters"]}
    assert set(params) == {"alias", "limit", "after", "trust"}
    assert params["alias"]["required"] and not params["limit"]["required"]
    assert (params["limit"]["schema"]["minimum"], params["limit"]["schema"]["maximum"]) == (1, 500)
    assert params["trust"]["schema"]["enum"] == ["all", "verified"]
    assert entry["security"] == [{"HTTPBearer": []}]
    assert entry["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ClusterPublic")


@pytest.mark.parametrize("before", ["garbage", "not-a-time|evt_1", "|", "2024-13-01T00:00|e"])
def test_bad_cursor_is_422_naming_before(api, before):
    written = api.webhook({"event_name": "Seen", "aliases": ["urn:customer_id:7"]})
    resp = api.client.get(f"/v1/clusters/{written['cluster_id']}/events",
                          params={"before": before}, headers=api.read)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["field"] == "before"


@pytest.mark.parametrize("limit", [0, 501, "ten"])
def test_page_size_out_of_range_is_422_naming_limit(api, limit):
    resp = api.client.get("/v1/clusters/clu_x/events", params={"limit": limit}, headers=api.read)
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["field"] == "limit"


def test_unknown_route_and_wrong_method_answer_in_the_error_shape(api):
    resp = api.client.get("/v1/nowhere")
    assert resp.status_code == 404 and resp.json()["error"]["field"] == "path"
    before = api.counts()
    resp = api.client.put(f"/v1/webhook/{api.hook['token']}", json=valid("webhook"))
    assert resp.status_code == 405 and resp.json()["error"]["field"] == "method"
    assert api.hook["token"] not in resp.text
    assert api.counts() == before


# -- limits are enforced while reading, before parsing ------------------------------------------


def test_a_100_mb_stream_is_refused_after_the_first_64_kib(api):
    """Chunked, with no Content-Length: the limit applies while the stream is read."""
    app = api.client.app
    chunk = b" " * 16384
    total = 100 * 1024 * 1024
    pulled = 0
    sent: list[dict] = []

    async def receive() -> dict:
        nonlocal pulled
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": pulled < total}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": f"/v1/webhook/{api.hook['token']}", "raw_path": b"",
        "query_string": b"", "root_path": "", "server": ("testserver", 80),
        "client": ("127.0.0.1", 5000),
        "headers": [(b"host", b"testserver"), (b"content-type", b"application/json"),
                    (b"transfer-encoding", b"chunked")],
    }
    before = api.counts()
    asyncio.run(app(scope, receive, send))

    starts = [m for m in sent if m["type"] == "http.response.start"]
    assert [m["status"] for m in starts] == [413]
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    assert json.loads(body)["error"]["field"] == "body"
    assert pulled <= 64 * 1024 + len(chunk)
    assert api.counts() == before


def test_a_declared_100_mb_body_is_refused_before_reading(api):
    def body():
        for _ in range(6400):
            yield b" " * 16384

    resp = api.client.post(f"/v1/webhook/{api.hook['token']}", content=body(),
                           headers={"Content-Length": str(100 * 1024 * 1024),
                                    "Content-Type": "application/json"})
    assert resp.status_code == 413
    assert resp.json()["error"]["field"] == "body"
