"""Neo4j Browser, for real: headless Chromium opens the suite's Neo4j Browser, connects, draws
John Smith's cluster with the library's ``browser_person`` query, applies the project's
style and opens its guide, both served by a real API process.

The tools come from the project's own files: Debian's ``chromium`` and the
``playwright-core`` pinned in ``tests/e2e/node/package-lock.json`` (``make e2e-tools``; this
test runs it when something is missing). Nothing downloads a browser, and Chromium may reach
loopback only. Screenshots land in ``tests/e2e/artifacts/``.

The suite's Neo4j was started with a ``browser.post_connect_cmd`` that points at whatever
API URL ``make test`` chose (``localhost:8000`` by default), which may not be running; the
test starts its own API on a free port and types ``:style``/``:play`` with that URL.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import neo4j
import neo4j.graph
import pytest

from converge_graph.cli.demo import JOHN_EMAIL, load
from converge_graph.core.cypher import load_library
from converge_graph.service import Service
from converge_graph.settings import Settings
from tests.procs import running_api

ROOT = Path(__file__).resolve().parents[2]
NODE_DIR = ROOT / "tests" / "e2e" / "node"
SCRIPT = NODE_DIR / "browser_check.mjs"
ARTIFACTS = ROOT / "tests" / "e2e" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
STYLE = ROOT / "cypher" / "browser" / "style.grass"


def _tools_missing() -> list[str]:
    missing = []
    if not Path(CHROMIUM).is_file():
        missing.append(f"{CHROMIUM} (Debian package chromium)")
    if shutil.which("node") is None:
        missing.append("node")
    if not (NODE_DIR / "node_modules" / "playwright-core" / "package.json").is_file():
        missing.append("tests/e2e/node/node_modules/playwright-core")
    return missing


@pytest.fixture(scope="module")
def tools() -> None:
    """Installs from the project's own files (make e2e-tools) what is missing."""
    if _tools_missing() and shutil.which("make"):
        subprocess.run(["make", "-s", "e2e-tools"], cwd=ROOT, timeout=900, check=False)
    missing = _tools_missing()
    if missing:
        pytest.fail(f"the Browser test needs {', '.join(missing)}: run `make e2e-tools` "
                    "(as root it installs Debian's chromium; npm installs the pinned "
                    "playwright-core)", pytrace=False)


def _get(url: str, timeout: float = 2.0) -> bytes:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


@pytest.fixture(scope="module")
def api_url(neo4j_settings: Settings) -> Iterator[str]:
    """A real API process (uvicorn) on a free loopback port, serving the style and guide.
    CVG_E2E_API_PORT=8000 picks the documented port (for screenshots destined for docs/)."""
    ARTIFACTS.mkdir(exist_ok=True)
    port = int(os.environ.get("CVG_E2E_API_PORT") or 0) or None
    with running_api(neo4j_settings, ARTIFACTS / "api.log", port=port) as api:
        yield f"http://localhost:{api.port}"


@pytest.fixture(scope="module")
def neo4j_http_url(neo4j_settings: Settings) -> str:
    """Neo4j's HTTP address (Browser): NEO4J_HTTP_URL, else what the server advertises."""
    url = os.environ.get("NEO4J_HTTP_URL")
    if not url:
        driver = neo4j.GraphDatabase.driver(neo4j_settings.neo4j_uri,
                                            auth=neo4j_settings.neo4j_auth)
        try:
            records, _, _ = driver.execute_query(
                "SHOW SETTINGS YIELD name, value "
                "WHERE name = 'server.http.advertised_address' RETURN value")
        finally:
            driver.close()
        port = records[0]["value"].rsplit(":", 1)[1]
        url = f"http://{urlsplit(neo4j_settings.neo4j_uri).hostname}:{port}"
    try:
        assert b"bolt_direct" in _get(url, timeout=5)
    except (OSError, AssertionError):
        pytest.fail(f"no Neo4j HTTP endpoint at {url}; set NEO4J_HTTP_URL to the server's "
                    "http://host:port (Browser lives under /browser/)", pytrace=False)
    return url.rstrip("/")


def expected_view(driver: neo4j.Driver, query: str) -> dict:
    """What the graph view must draw: the distinct nodes and relationships of the result."""
    records, _, _ = driver.execute_query(query)
    nodes: dict[str, neo4j.graph.Node] = {}
    rels: dict[str, neo4j.graph.Relationship] = {}
    for record in records:
        nodes[record["profile"].element_id] = record["profile"]
        for path in [*record["aliases"], *record["links"]]:
            nodes.update((n.element_id, n) for n in path.nodes)
            rels.update((r.element_id, r) for r in path.relationships)
    labels = Counter(label for n in nodes.values() for label in n.labels)
    reasons = Counter(r["reason"] for r in rels.values() if r.type == "SAME_AS")
    return {"nodes": len(nodes), "relationships": len(rels), "labels": labels,
            "reasons": reasons}


def grass_rule(selector: str) -> dict[str, str]:
    body = re.search(rf"{re.escape(selector)}\s*\{{([^}}]*)\}}", STYLE.read_text())
    assert body, f"style.grass has no {selector} rule"
    return dict(re.findall(r"([\w-]+):\s*([^;]+);", body.group(1)))


@pytest.mark.timeout(120, func_only=True)
def test_browser_draws_john_smiths_cluster_styled_and_opens_the_guide(
    tools: None, service: Service, driver: neo4j.Driver, neo4j_settings: Settings,
    api_url: str, neo4j_http_url: str,
) -> None:
    load(service, 40, 1, datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0))
    query = load_library(ROOT / "cypher" / "queries")["browser_person"].inline({"urn": JOHN_EMAIL})
    expected = expected_view(driver, query)
    assert expected["labels"]["Profile"] >= 2 and expected["reasons"]

    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob("*.png"):
        old.unlink()
    bolt = urlsplit(neo4j_settings.neo4j_uri)
    env = {**os.environ, "CVG_BROWSER_URL": neo4j_http_url, "CVG_API_URL": api_url,
           "CVG_BOLT_URL": f"bolt://localhost:{bolt.port or 7687}", "CVG_QUERY": query,
           "CVG_ARTIFACTS": str(ARTIFACTS), "CVG_CHROMIUM": CHROMIUM,
           "CVG_NEO4J_USER": neo4j_settings.neo4j_user,
           "CVG_NEO4J_PASSWORD": neo4j_settings.neo4j_password}
    began = time.monotonic()
    done = subprocess.run(["node", str(SCRIPT)], cwd=NODE_DIR, env=env, capture_output=True,
                          text=True, timeout=100)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"browser_check.mjs printed no result:\n{done.stdout}\n{done.stderr}"
    seen = json.loads(lines[-1].removeprefix("RESULT "))
    (ARTIFACTS / "browser-check.json").write_text(json.dumps(seen, indent=2))
    assert "error" not in seen, (
        f"{seen['error']}\n(see {ARTIFACTS / 'browser-failure.png'}; "
        f"{time.monotonic() - began:.0f} s)")

    # Browser's defaults, then the project's style: the same graph, drawn differently.
    n, r = expected["nodes"], expected["relationships"]
    for view in (seen["unstyled"], seen["styled"]):
        assert view["displaying"] == f"Displaying {n} nodes, {r} relationships."
        assert len(view["nodes"]) == n and len(view["relationships"]) == r

    profile, alias = grass_rule("node.Profile"), grass_rule("node.Alias")
    styled = seen["styled"]["nodes"]
    profiles = [v for v in styled if v["caption"].startswith("prf_")]
    aliases = [v for v in styled if v["caption"].startswith("urn:")]
    assert len(profiles) == expected["labels"]["Profile"]
    assert len(aliases) == expected["labels"]["Alias"]
    assert {(v["fill"], v["radius"]) for v in profiles} == {
        (profile["color"], int(profile["diameter"].removesuffix("px")) / 2)}
    assert {(v["fill"], v["radius"]) for v in aliases} == {
        (alias["color"], int(alias["diameter"].removesuffix("px")) / 2)}
    # SAME_AS links are red and captioned with their reason (Browser shortens a caption that
    # does not fit its arrow: "shared_al…", or nothing), not with their type.
    same_as = grass_rule("relationship.SAME_AS")
    red = [rel["caption"] for rel in seen["styled"]["relationships"]
           if rel["fill"] == same_as["color"]]
    assert len(red) == sum(expected["reasons"].values())
    assert all(any(reason.startswith(caption.rstrip("…")) for reason in expected["reasons"])
               for caption in red), red
    assert "SAME_AS" in {rel["caption"] for rel in seen["unstyled"]["relationships"]}
    assert {v["radius"] for v in seen["unstyled"]["nodes"]} != {v["radius"] for v in styled}

    assert seen["style_status"] == 200
    assert seen["guide"]["title"] == "converge-graph" and seen["guide"]["runnable_blocks"] >= 1
    assert all(urlsplit(origin).hostname not in {"localhost", "127.0.0.1"}
               for origin in seen["blocked"])
    for name in ("browser-cluster.png", "browser-style.png", "browser-guide.png"):
        shot = ARTIFACTS / name
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000
