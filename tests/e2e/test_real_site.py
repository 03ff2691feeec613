"""A real website on another origin, for real: a page server on its own port serves a shop's
pages holding exactly the snippet `converge-graph sources add shop --kind web --origin …
--json` printed; headless Chromium loads them from there and the SDK calls the API on
`localhost`, another site. What arrives is read back over the read API with a read key.

- the Converge docs' track, set and forward calls make one person with the cookie, the
  checkout alias and the profile properties;
- a call made in `pagehide`, as the visitor navigates away, still arrives;
- a call whose first answer is a 503 (after the write committed) is retried after its
  Retry-After and stored once;
- misuse (no object, a call answered 422) resolves with an error and throws nothing;
- the same page on an origin the datasource does not list is refused: nothing stored, the
  refusal counted in /metrics, nothing thrown into the page.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx2 as httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from converge_graph.cli import app
from converge_graph.service import Service
from converge_graph.settings import Settings
from tests.e2e.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    NODE_DIR,
    tools,  # noqa: F401  (the fixture that installs Chromium)
)
from tests.procs import free_port, running_api

SCRIPT = NODE_DIR / "site_check.mjs"
CHECKOUT_ID = "C-7781"

# The Converge docs' browser calls (docs/converge.md, examples 1, 7 and 3).
STORY = """<script>
cvg({
method: "track",
eventName: "Subscribed To Newsletter",
properties: {
formId: "your-form-id",
},
profileProperties: {
$email: "john.smith@apple.com",
$first_name: "John",
$last_name: "Smith",
$phone_number: "+199999999",
},
});
var checkoutID = "CHECKOUT_ID";
cvg({ method: "set", aliases: [`urn:checkout:${checkoutID}`] });
cvg({
method: "forward",
eventName: "Placed Order",
properties: {},
eventID: "X01",
});
</script>""".replace("CHECKOUT_ID", CHECKOUT_ID)
LEAVE = """<script>
addEventListener("pagehide", function () {
  cvg({ method: "track", eventName: "Left Page", properties: { path: location.pathname } });
});
</script>"""
RETRY = """<script>
addEventListener("load", function () {
  cvg({ method: "track", eventName: "Started Checkout", properties: { total: 25 } })
    .then(function (answer) { window.placed = answer; });
});
</script>"""
MISUSE = """<script>
window.unhandled = [];
addEventListener("unhandledrejection", function (e) { window.unhandled.push(String(e.reason)); });
addEventListener("load", function () {
  Promise.all([cvg(), cvg("Viewed Product"), cvg({ method: "track" })])
    .then(function (answers) { window.misuse = answers; });
});
</script>"""
REFUSED = """<script>
addEventListener("load", function () {
  cvg({ method: "track", eventName: "Subscribed To Newsletter", properties: {},
        aliases: ["urn:email:victim@shopmail.com"] })
    .then(function (answer) { window.refusedAnswer = answer; });
});
</script>"""


def page(snippet: str, body: str) -> bytes:
    return (f"<!doctype html><html><head><meta charset=utf-8>{snippet}</head>"
            f"<body><h1>shop</h1>{body}</body></html>").encode()


@pytest.fixture
def page_server() -> Iterator[tuple[str, dict[str, bytes]]]:
    """A second origin: serves whatever pages the test puts in its dict."""
    pages: dict[str, bytes] = {"/next.html": page("", "<p>next</p>")}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's spelling)
            content = pages.get(self.path.split("?")[0])
            self.send_response(200 if content else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(content or b"")))
            self.end_headers()
            self.wfile.write(content or b"")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", pages
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api_base(neo4j_settings: Settings) -> Iterator[str]:
    ARTIFACTS.mkdir(exist_ok=True)
    with running_api(neo4j_settings, ARTIFACTS / "site-api.log") as api:
        yield f"http://localhost:{api.port}"


def sources_add(monkeypatch, neo4j_settings: Settings, base: str, *args: str) -> dict:
    """`converge-graph sources add … --json`, as a shop owner runs it."""
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.neo4j_uri)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.neo4j_password)
    monkeypatch.setenv("CVG_PUBLIC_URL", base)
    outcome = CliRunner().invoke(app, ["sources", "add", *args, "--kind", "web", "--json"])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout)


def lookup(base: str, key: str, urn: str, want: int = 1, timeout: float = 10) -> dict | None:
    """The cluster holding ``urn`` once it has ``want`` events (None if it never does)."""
    deadline = time.monotonic() + timeout
    body = None
    while time.monotonic() < deadline:
        resp = httpx.get(f"{base}/v1/clusters/lookup", params={"alias": urn},
                         headers={"Authorization": f"Bearer {key}"}, timeout=5)
        if resp.status_code == 200:
            body = resp.json()
            if body["event_count"] >= want:
                return body
        time.sleep(0.2)
    return body


def refused_total(base: str) -> float:
    text = httpx.get(f"{base}/metrics", timeout=5).text
    return next((s.value for f in text_string_to_metric_families(text) for s in f.samples
                 if s.name == "cors_refused_total"), 0.0)


@pytest.mark.timeout(180, func_only=True)
@pytest.mark.usefixtures("tools")
def test_a_shop_on_another_origin_reaches_one_person_and_an_unlisted_origin_is_refused(
        service: Service, api_base: str, page_server, monkeypatch, neo4j_settings: Settings):
    shop_origin, pages = page_server
    shop = sources_add(monkeypatch, neo4j_settings, api_base, "shop",
                       "--origin", shop_origin, "--origin", "https://checkout.example")
    other = sources_add(monkeypatch, neo4j_settings, api_base, "elsewhere",
                        "--origin", "https://elsewhere.example")
    assert shop["origins"] == [shop_origin, "https://checkout.example"]
    pages["/story.html"] = page(shop["snippet"], STORY)
    pages["/leave.html"] = page(shop["snippet"], LEAVE)
    pages["/retry.html"] = page(shop["snippet"], RETRY)
    pages["/misuse.html"] = page(shop["snippet"], MISUSE)
    pages["/refused.html"] = page(other["snippet"], REFUSED)
    key = service.add_key("read", "e2e")["key"]

    env = {**os.environ, "CVG_PAGES": shop_origin, "CVG_CHROMIUM": CHROMIUM}
    done = subprocess.run(["node", str(SCRIPT)], cwd=NODE_DIR, env=env, capture_output=True,
                          text=True, timeout=150)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"site_check.mjs printed no result:\n{done.stdout}\n{done.stderr}"
    seen = json.loads(lines[-1].removeprefix("RESULT "))
    assert "error" not in seen, seen.get("error")
    assert all(not s["pageErrors"] for s in seen.values()), seen

    # The docs' calls: one person with the cookie, the checkout alias and the properties.
    story = seen["story"]
    assert story["collected"] == [200, 200, 200], story
    person = lookup(api_base, key, f"urn:checkout:{CHECKOUT_ID}", want=2)
    assert person is not None
    assert f"urn:cookie:{story['uid']}" in person["aliases"]
    assert person["event_count"] == 2  # track and forward; set stores no event
    assert person["merged_properties"] | {
        "$email": "john.smith@apple.com", "$first_name": "John", "$last_name": "Smith",
        "$phone_number": "+199999999"} == person["merged_properties"]

    # The call made while the page went away arrived.
    assert seen["leave"]["left"] == "/next.html"
    left = lookup(api_base, key, f"urn:cookie:{seen['leave']['uid']}")
    assert left is not None and left["event_count"] == 1
    events = service.events(left["cluster_id"], 10, None)["events"]
    assert [e["event_name"] for e in events] == ["Left Page"]

    # Committed, answered 503, retried with the same eventID: stored exactly once.
    retry = seen["retry"]
    assert retry["firstAnswer"] == 200 and retry["attempts"] == 2
    assert retry["collected"] == [503, 200]
    assert retry["at"][1] - retry["at"][0] >= 1900  # Retry-After: 2 (backoff alone is ~1 s)
    assert list(retry["resolved"]) == ["cookie_id"]  # the public token is told nothing more
    retried = lookup(api_base, key, f"urn:cookie:{retry['uid']}")
    assert retried is not None and retried["event_count"] == 1

    # Misuse never throws into the page; a 422 is not retried and says what to fix.
    misuse = seen["misuse"]
    assert misuse["unhandled"] == []
    usage, usage_again, invalid = misuse["resolved"]
    assert usage["error"]["code"] == usage_again["error"]["code"] == "usage"
    assert invalid["error"]["field"] == "eventName"
    assert misuse["collected"] == [422]
    assert any("eventName" in w for w in misuse["warnings"])

    # The unlisted origin: refused, nothing stored, counted, nothing thrown.
    refused = seen["refused"]
    assert refused["collected"] == []  # the preflight was refused: no POST was sent
    assert refused["resolved"]["error"]["code"] == "network"
    assert refused["warnings"], "the SDK says why in the console"
    for urn in (f"urn:cookie:{refused['uid']}", "urn:email:victim@shopmail.com"):
        resp = httpx.get(f"{api_base}/v1/clusters/lookup", params={"alias": urn},
                         headers={"Authorization": f"Bearer {key}"}, timeout=5)
        assert resp.status_code == 404, resp.text
    assert refused_total(api_base) >= 1
