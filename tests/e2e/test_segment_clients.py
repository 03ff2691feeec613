"""The analytics clients teams already run, unchanged but for their host: the real
segment-analytics-python and @segment/analytics-node against a live API process
(docs/segment.md). Only the write key and the host differ from production."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator

import httpx2 as httpx
import pytest
from segment.analytics import Client
from segment.analytics.request import APIError

from converge_graph.service import Service
from converge_graph.settings import Settings
from tests.e2e.test_browser import (  # noqa: F401  (tools: the fixture installing Chromium)
    ARTIFACTS,
    CHROMIUM,
    NODE_DIR,
    tools,
)
from tests.procs import ApiProcess, running_api

NODE_SCRIPT = NODE_DIR / "segment_check.mjs"


@pytest.fixture
def live_api(neo4j_settings: Settings) -> Iterator[ApiProcess]:
    ARTIFACTS.mkdir(exist_ok=True)
    with running_api(neo4j_settings, ARTIFACTS / "segment-api.log") as api:
        yield api


def python_client(api: ApiProcess, key: str, errors: list) -> Client:
    return Client(key, host=api.base, gzip=True, max_retries=1,
                  on_error=lambda exc, batch: errors.append(exc))


def read(api: ApiProcess, key: str, path: str) -> httpx.Response:
    return httpx.get(api.base + path, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def test_python_library_identify_track_alias_make_one_person(service: Service, live_api):
    hook, key = service.add_source("py-backend", "webhook"), service.add_key("read")["key"]
    run = uuid.uuid4().hex[:8]
    errors: list = []
    client = python_client(live_api, hook["token"], errors)
    client.identify(f"py-user-{run}", {"email": f"Py.{run}@Shop.io", "plan": "pro"})
    track_id = f"py-track-{run}"
    client.track(anonymous_id=f"py-anon-{run}", event="Viewed Product",
                 properties={"sku": "A1"}, message_id=track_id)
    client.alias(f"py-anon-{run}", f"py-user-{run}")
    client.flush()
    client.join()
    assert errors == []
    found = read(live_api, key, f"/v1/events/{track_id}")
    assert found.status_code == 200, found.text
    assert found.json()["event_name"] == "Viewed Product"
    cluster = read(live_api, key, f"/v1/clusters/{found.json()['cluster_id']}").json()
    assert {f"urn:user_id:py-user-{run}", f"urn:anonymous_id:py-anon-{run}",
            f"urn:email:py.{run}@shop.io"} <= set(cluster["aliases"])
    assert cluster["merged_properties"]["plan"] == "pro"


def test_python_library_retry_of_one_message_id_stores_one_event(service: Service, live_api):
    hook, key = service.add_source("py-backend", "webhook"), service.add_key("read")["key"]
    run = uuid.uuid4().hex[:8]
    errors: list = []
    client = Client(hook["token"], host=live_api.base, gzip=True, sync_mode=True)
    for _ in range(2):
        client.track(user_id=f"u-{run}", event="Paid", message_id=f"pay-{run}")
    batched = python_client(live_api, hook["token"], errors)
    batched.track(user_id=f"u-{run}", event="Paid", message_id=f"pay-{run}")
    batched.track(user_id=f"u-{run}", event="Refunded", message_id=f"refund-{run}")
    batched.flush()
    batched.join()
    assert errors == []
    cluster_id = read(live_api, key, f"/v1/events/pay-{run}").json()["cluster_id"]
    assert read(live_api, key, f"/v1/clusters/{cluster_id}").json()["event_count"] == 2


def test_python_library_reports_a_wrong_write_key_as_401_and_nothing_is_stored(
        service: Service, live_api):
    web = service.add_source("site", "web")
    for wrong in ("not-a-key", web["token"]):
        client = Client(wrong, host=live_api.base, gzip=True, sync_mode=True)
        with pytest.raises(APIError) as refused:
            client.track(anonymous_id="a", event="Nope")
        assert refused.value.status == 401 and refused.value.code == "unauthorized"
    errors: list = []
    threaded = python_client(live_api, "not-a-key", errors)
    threaded.track(anonymous_id="a", event="Nope")
    threaded.flush()
    threaded.join()
    assert [e.status for e in errors] == [401]
    assert service.graph.count_same_as() == 0
    assert service.graph.cluster_by_alias("urn:anonymous_id:a") is None


@pytest.fixture(scope="module")
def node_modules() -> None:
    if shutil.which("node") is None or not (NODE_DIR / "node_modules/@segment").is_dir():
        pytest.fail("tests/e2e needs node and `npm ci --prefix tests/e2e/node` (make test "
                    "runs it)")


def run_node(api: ApiProcess, key: str, run: str) -> dict:
    env = {**os.environ, "CVG_HOST": api.base, "CVG_WRITE_KEY": key, "CVG_RUN": run}
    done = subprocess.run(["node", str(NODE_SCRIPT)], cwd=NODE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    assert lines, f"segment_check.mjs printed no result:\n{done.stdout}\n{done.stderr}"
    return json.loads(lines[-1].removeprefix("RESULT "))


@pytest.mark.usefixtures("node_modules")
def test_node_library_calls_reach_one_person(service: Service, live_api):
    hook, key = service.add_source("node-backend", "webhook"), service.add_key("read")["key"]
    run = uuid.uuid4().hex[:8]
    seen = run_node(live_api, hook["token"], run)
    assert seen == {"errors": [], "statuses": [200]}
    event = read(live_api, key, f"/v1/events/node-track-{run}").json()
    assert event["event_name"] == "Order Completed" and event["properties"]["total"] == 42
    cluster = read(live_api, key, f"/v1/clusters/{event['cluster_id']}").json()
    assert {f"urn:user_id:node-user-{run}", f"urn:anonymous_id:node-anon-{run}",
            f"urn:email:node-{run}@shop.io"} <= set(cluster["aliases"])
    assert cluster["event_count"] == 4  # identify, track, page, group
    assert cluster["merged_properties"]["plan"] == "team"


@pytest.mark.usefixtures("node_modules")
def test_node_library_reports_a_wrong_write_key_as_401(service: Service, live_api):
    run = uuid.uuid4().hex[:8]
    seen = run_node(live_api, "not-a-key", run)
    assert seen["statuses"] == [401]  # not retried: a 401 can never succeed
    assert seen["errors"] and "401" in seen["errors"][0]
    assert service.graph.cluster_by_alias(f"urn:anonymous_id:node-anon-{run}") is None


@pytest.mark.timeout(120, func_only=True)
@pytest.mark.usefixtures("node_modules", "tools")
def test_analytics_js_in_chromium_reaches_one_person_cross_origin(service: Service, live_api):
    web, key = service.add_source("shop-web", "web"), service.add_key("read")["key"]
    env = {**os.environ, "CVG_API": live_api.base, "CVG_WRITE_KEY": web["token"],
           "CVG_EMAIL": "Ajs.Visitor@Shop.io", "CVG_CHROMIUM": CHROMIUM}
    done = subprocess.run(["node", str(NODE_DIR / "segment_browser_check.mjs")], cwd=NODE_DIR,
                          env=env, capture_output=True, text=True, timeout=100)
    lines = [x for x in done.stdout.splitlines() if x.startswith("RESULT ")]
    assert lines, f"segment_browser_check.mjs printed no result:\n{done.stdout}\n{done.stderr}"
    seen = json.loads(lines[-1].removeprefix("RESULT "))
    assert "error" not in seen, seen["error"]
    answers = {(method, path): status for method, path, status in seen["answers"]}
    assert answers[("GET", f"/v1/projects/{web['token']}/settings")] == 200
    assert all(answers[("POST", p)] == 200 for p in ("/v1/p", "/v1/t", "/v1/i")), answers
    assert seen["failed"] == []  # no request blocked by CORS, no console error
    found = read(live_api, key, "/v1/clusters/lookup?alias=urn:anonymous_id:"
                 + seen["anonymousId"])
    cluster = found.json()
    assert "urn:email:ajs.visitor@shop.io" in cluster["aliases"]
    assert cluster["event_count"] == 3  # Viewed Home Page, Added To Cart, Identify
