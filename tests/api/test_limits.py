"""Limits enforced before parsing (docs/api.md#limits), beyond what test_bad_input covers.

Through a real uvicorn process: a 100 MB stream is answered 413 after its first chunks
and never buffered. Through the app: batch count and size limits, duplicate JSON keys,
nesting too deep for the parser, and the exact edges of the 64 KiB event limit. Every
refusal leaves node and relationship counts unchanged.
"""

from __future__ import annotations

import json
import socket

import httpx2 as httpx
import pytest

from tests.procs import ApiProcess, rss_bytes

KiB, MiB = 1024, 1024 * 1024


@pytest.fixture(scope="module")
def server(neo4j_settings, tmp_path_factory) -> ApiProcess:
    """The API as deployed: `converge-graph serve` in its own process."""
    log = tmp_path_factory.mktemp("limits") / "api.log"
    api = ApiProcess(neo4j_settings.neo4j_uri, log, password=neo4j_settings.neo4j_password)
    api.start()
    yield api
    api.stop()


def post(api, path: str, content: bytes):
    return api.client.post(path, content=content, headers={"Content-Type": "application/json"})


def refused(api, path: str, content: bytes, status: int) -> dict:
    before = api.counts()
    resp = post(api, path, content)
    assert resp.status_code == status, resp.text[:500]
    assert api.counts() == before
    return resp.json()["error"]


# -- the stream is refused while it is read ---------------------------------------------------


def test_a_100_mb_chunked_stream_is_answered_413_after_its_first_chunks(api, server):
    """Raw HTTP: send 2 MiB of a chunked body and stop; the 413 is already there."""
    before = api.counts()
    chunk = b" " * (64 * KiB)
    framed = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as conn:
        conn.sendall(f"POST /v1/webhook/{api.hook['token']} HTTP/1.1\r\n"
                     "Host: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n".encode())
        for _ in range(32):  # 2 MiB of the announced 100 MB, then silence
            conn.sendall(framed)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = conn.recv(65536)
            if not data:
                break
            answer += data
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert api.counts() == before


@pytest.mark.parametrize("declared", [False, True], ids=["chunked", "content-length"])
def test_a_100_mb_upload_is_never_buffered(api, server, declared):
    """The whole 100 MB goes out; the API's resident memory does not follow it."""
    sent = 0

    def body():
        nonlocal sent
        chunk = b" " * (64 * KiB)
        while sent < 100 * MiB:
            sent += len(chunk)
            yield chunk

    headers = {"Content-Type": "application/json"}
    if declared:
        headers["Content-Length"] = str(100 * MiB)
    before, rss_before = api.counts(), rss_bytes(server.pid)
    resp = httpx.post(f"{server.base}/v1/webhook/{api.hook['token']}", content=body(),
                      headers=headers, timeout=60)
    assert resp.status_code == 413
    assert resp.json()["error"]["field"] == "body"
    assert rss_bytes(server.pid) - rss_before < 16 * MiB
    assert api.counts() == before


# -- batches ------------------------------------------------------------------------------------


def item(n: int, **extra) -> dict:
    return {"event_name": "Viewed", "event_id": f"B-{n}", "aliases": [f"urn:cart:c{n}"], **extra}


def test_a_batch_of_501_events_is_refused_whole(api):
    body = json.dumps({"events": [item(n) for n in range(501)]}).encode()
    error = refused(api, f"/v1/webhook/{api.hook['token']}/batch", body, 422)
    assert error["field"] == "events" and "500" in error["message"]


def test_a_batch_of_500_events_is_the_limit_itself(api):
    body = json.dumps({"events": [item(n) for n in range(500)]}).encode()
    resp = post(api, f"/v1/webhook/{api.hook['token']}/batch", body)
    assert resp.status_code == 200, resp.text[:500]
    assert api.counts()["Event"] == 500


def test_a_batch_body_over_5_mib_is_413(api):
    blob = "x" * (14 * KiB)
    body = json.dumps({"events": [item(n, properties={"blob": blob}) for n in range(400)]})
    assert len(body) > 5 * MiB
    error = refused(api, f"/v1/webhook/{api.hook['token']}/batch", body.encode(), 413)
    assert error["field"] == "body"


def test_invalid_utf8_in_a_batch_is_400(api):
    body = b'{"events": [{"event_name": "Viewed", "aliases": ["urn:cart:\xc3\x28"]}]}'
    error = refused(api, f"/v1/webhook/{api.hook['token']}/batch", body, 400)
    assert error["field"] == "body"


# -- duplicate keys -------------------------------------------------------------------------


DUPLICATES = {
    "two event ids": ("webhook", b'{"event_name": "Order", "event_id": "A", "event_id": "B"}',
                      "event_id"),
    "a key twice inside properties": (
        "webhook", b'{"event_name": "Order", "properties": {"total": 1, "total": 100}}',
        "properties.total"),
    "inside a list inside properties": (
        "webhook", b'{"event_name": "Order", "properties": {"items": [{"sku": 1}, '
                   b'{"sku": 2, "sku": 3}]}}', "properties.items[1].sku"),
    "the browser's profile properties": (
        "collect", b'{"method": "set", "cookieId": "b1", "profileProperties": '
                   b'{"$email": "a@shop.com", "$email": "b@shop.com"}}',
        "profileProperties.$email"),
    "one batch item": ("batch", b'{"events": [{"event_name": "A"}, {"event_name": "B", '
                                b'"aliases": [], "aliases": ["urn:cart:1"]}]}',
                       "events[1].aliases"),
    "the batch's own key": ("batch", b'{"events": [], "events": [{"event_name": "A"}]}',
                            "events"),
}


def url(api, route: str) -> str:
    return {"webhook": f"/v1/webhook/{api.hook['token']}",
            "batch": f"/v1/webhook/{api.hook['token']}/batch",
            "collect": f"/v1/collect/{api.web['token']}"}[route]


@pytest.mark.parametrize("route, body, field", DUPLICATES.values(), ids=DUPLICATES.keys())
def test_a_duplicate_json_key_is_422_naming_it(api, route, body, field):
    error = refused(api, url(api, route), body, 422)
    assert error["code"] == "duplicate_key"
    assert error["field"] == field
    assert repr(field.rsplit(".", 1)[-1].split("[")[0]) in error["message"]


def test_equal_keys_in_different_objects_are_fine(api):
    body = b'{"event_name": "Order", "properties": {"id": 1, "line": {"id": 2}}, "event_id": "O"}'
    resp = post(api, url(api, "webhook"), body)
    assert resp.status_code == 200, resp.text


# -- nesting and sizes ------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["webhook", "collect", "batch"])
def test_nesting_too_deep_for_the_parser_is_422(api, route):
    deep = "[" * 20_000 + "]" * 20_000
    text = {"webhook": f'{{"event_name": "x", "properties": {{"a": {deep}}}}}',
            "collect": f'{{"method": "track", "properties": {{"a": {deep}}}}}',
            "batch": f'{{"events": [{{"event_name": "x", "properties": {deep}}}]}}'}[route]
    assert len(text) < 64 * KiB
    error = refused(api, url(api, route), text.encode(), 422)
    assert error["field"] == "body" and "nest" in error["message"]


def test_a_whole_body_of_nested_arrays_is_422(api):
    error = refused(api, url(api, "webhook"), b"[" * 30_000 + b"]" * 30_000, 422)
    assert error["field"] == "body"


def test_a_60_kib_string_property_is_stored_whole(api):
    value = "é" * (30 * KiB)  # 60 KiB of UTF-8
    result = api.webhook({"event_name": "Note", "event_id": "BIG",
                          "properties": {"note": value}})
    assert result["event_id"] == "BIG"
    assert api.get("/v1/events/BIG")["properties"]["note"] == value


def padded(size: int) -> bytes:
    """A valid event padded with whitespace to exactly ``size`` bytes."""
    body = b'{"event_name": "Edge", "properties": {"s": "' + b"x" * (size - 200) + b'"}}'
    return body + b" " * (size - len(body))


def test_a_body_of_exactly_64_kib_is_accepted_and_one_byte_more_is_413(api):
    assert len(padded(64 * KiB)) == 64 * KiB
    resp = post(api, url(api, "webhook"), padded(64 * KiB))
    assert resp.status_code == 200, resp.text[:300]
    error = refused(api, url(api, "webhook"), padded(64 * KiB + 1), 413)
    assert error["field"] == "body"


def test_a_65_kib_string_is_413(api):
    body = json.dumps({"event_name": "Note", "properties": {"note": "x" * (65 * KiB)}})
    refused(api, url(api, "webhook"), body.encode(), 413)
