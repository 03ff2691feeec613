"""The browser SDK, for real: headless Chromium opens the demo shop, whose `cvg({...})` call
is queued by the stub before /v1/cvg.js loads; a visitor adds to cart and subscribes; their
cookie, events and email alias end up in one cluster, shown under "my identity"."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from converge_graph.service import Service
from converge_graph.settings import Settings
from tests.e2e.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    NODE_DIR,
    tools,  # noqa: F401  (the fixture that installs Chromium)
)
from tests.procs import running_api

SCRIPT = NODE_DIR / "sdk_check.mjs"


@pytest.fixture
def demo_api(neo4j_settings: Settings) -> Iterator[str]:
    """A real API process with the demo shop enabled (CVG_DEMO=true), on a free port."""
    ARTIFACTS.mkdir(exist_ok=True)
    with running_api(neo4j_settings, ARTIFACTS / "demo-api.log",
                     extra_env={"CVG_DEMO": "true"}) as api:
        yield f"http://localhost:{api.port}"


@pytest.mark.timeout(120, func_only=True)
@pytest.mark.usefixtures("tools")
def test_demo_shop_calls_reach_one_cluster_through_the_sdk(service: Service, demo_api):
    web = service.add_source("demo-web", "web")
    env = {**os.environ, "CVG_SHOP_URL": f"{demo_api}/demo?token={web['token']}",
           "CVG_EMAIL": "Jane.Doe@Shopmail.com ", "CVG_ARTIFACTS": str(ARTIFACTS),
           "CVG_CHROMIUM": CHROMIUM, "CVG_READ_KEY": service.add_key("read")["key"]}
    done = subprocess.run(["node", str(SCRIPT)], cwd=NODE_DIR, env=env, capture_output=True,
                          text=True, timeout=100)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"sdk_check.mjs printed no result:\n{done.stdout}\n{done.stderr}"
    seen = json.loads(lines[-1].removeprefix("RESULT "))
    assert "error" not in seen, seen.get("error")
    assert seen["blocked"] == []
    uid = seen["uid"]
    assert seen["cookie"]["value"] == uid and seen["cookie"]["sameSite"] == "Lax"
    assert all(status == 200 for status in seen["collected"]) and len(seen["collected"]) >= 3
    identity = seen["identity"]
    assert f"urn:cookie:{uid}" in identity["aliases"]
    assert "urn:email:jane.doe@shopmail.com" in identity["aliases"]
    assert identity["event_count"] == 3  # the queued page view, add to cart, subscribe
    assert identity["merged_properties"]["$first_name"] == "Jane"
    page = service.events(identity["cluster_id"], 10, None)["events"]
    assert [e["event_name"] for e in page][::-1] == [
        "Viewed Product", "Added To Cart", "Subscribed To Newsletter"]
