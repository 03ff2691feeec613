"""A real Neo4j for the suite: testcontainers where a Docker engine answers, otherwise the
server `make test` started (NEO4J_URI). With neither, every test fails saying how to get one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import neo4j
import pytest
from fastapi.testclient import TestClient

from converge_graph.api import create_app
from converge_graph.core.policy import Policy
from converge_graph.core.trust import sign
from converge_graph.service import Service
from converge_graph.settings import Settings
from converge_graph.store.graph import Graph, connect

HOW_TO = (
    "no Neo4j for the test suite: run `make test` (it starts a local Neo4j 5.26 from Maven "
    "Central on port 17687), or set NEO4J_URI to a running Neo4j 5.26, or start a Docker engine "
    "so testcontainers can run neo4j:5.26-community"
)


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Settings]:
    uri = os.environ.get("NEO4J_URI")
    container = None
    if not uri and _docker_answers():
        from testcontainers.neo4j import Neo4jContainer

        container = Neo4jContainer("neo4j:5.26-community", password="converge-test")
        container.start()
        uri = container.get_connection_url()
        os.environ["NEO4J_PASSWORD"] = "converge-test"
    if not uri:
        pytest.fail(HOW_TO, pytrace=False)
    settings = Settings(NEO4J_URI=uri, NEO4J_PASSWORD=os.environ.get("NEO4J_PASSWORD", ""))
    driver = connect(settings)
    try:
        driver.verify_connectivity()
    except Exception as exc:  # the suite must fail loudly, never skip
        pytest.fail(f"cannot reach Neo4j at {uri}: {exc}\n{HOW_TO}", pytrace=False)
    finally:
        driver.close()
    yield settings
    if container is not None:
        container.stop()


@pytest.fixture(scope="session")
def driver(neo4j_settings: Settings) -> Iterator[neo4j.Driver]:
    drv = connect(neo4j_settings)
    yield drv
    drv.close()


@pytest.fixture(scope="session")
def graph(driver: neo4j.Driver, neo4j_settings: Settings) -> Graph:
    g = Graph(driver, neo4j_settings)
    g.apply_schema()
    return g


def wipe(driver: neo4j.Driver) -> None:
    """Delete all data, keep the schema."""
    with driver.session() as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()


def count_nodes(driver: neo4j.Driver) -> dict[str, int]:
    records, _, _ = driver.execute_query(
        "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n"
    )
    rels, _, _ = driver.execute_query("MATCH ()-[r]->() RETURN count(r) AS n")
    return {**{r["label"]: r["n"] for r in records}, "relationships": rels[0]["n"]}


@pytest.fixture
def clean(driver: neo4j.Driver, graph: Graph) -> Graph:
    wipe(driver)
    return graph


@pytest.fixture
def service(clean: Graph, neo4j_settings: Settings) -> Service:
    return Service(clean, neo4j_settings, Policy())


@pytest.fixture
def linking_service(clean: Graph, neo4j_settings: Settings) -> Service:
    """Pure alias linking, no merge protection: clusters are the connected components of
    alias co-occurrence, the oracle of the concurrency and differential tests."""
    return Service(clean, neo4j_settings,
                   Policy(limits={}, default_limit=None, hub_threshold=10**9,
                          event_hub_threshold=10**9))


@pytest.fixture(scope="session")
def app_client(neo4j_settings: Settings) -> Iterator[TestClient]:
    # No delivery workers in the shared app: they would claim other tests' deliveries.
    # tests/api/test_destinations.py runs an app of its own with them.
    settings = neo4j_settings.model_copy(update={"delivery_workers": 0})
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        yield client


@dataclass
class Api:
    """A client with a web source, a webhook source, a read key and an admin key."""

    client: TestClient
    driver: neo4j.Driver
    web: dict[str, Any]
    hook: dict[str, Any]
    read_key: str
    admin_key: str
    cookies_sent: list[str] = field(default_factory=list)
    # Every committed batch's results, as the service's ingest observers see them: what the
    # operator knows about a browser write, which the browser itself is never told.
    committed: list[list[dict[str, Any]]] = field(default_factory=list)

    @property
    def read(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.read_key}"}

    def webhook(self, body: Any, expect: int = 200) -> dict:
        resp = self.client.post(f"/v1/webhook/{self.hook['token']}", json=body)
        assert resp.status_code == expect, resp.text
        return resp.json()

    def collect(self, body: Any, cookie: str | None = None, expect: int = 200) -> dict:
        """The browser's reply (asserted to be only its cookie id) with, for the test to
        check, the write's result as the service committed it (never sent to the browser)."""
        self.client.cookies.clear()
        payload = dict(body)
        if cookie is not None:
            payload["cookieId"] = cookie
        before = len(self.committed)
        resp = self.client.post(f"/v1/collect/{self.web['token']}", json=payload)
        assert resp.status_code == expect, resp.text
        reply = resp.json()
        if expect != 200:
            return reply
        assert list(reply) == ["cookie_id"], reply
        assert len(self.committed) > before, "a 200 from /v1/collect committed nothing"
        return {**self.committed[-1][-1], **reply}

    def sign(self, urn: str) -> str:
        """What the shop's backend gives the page for a strong id (docs/security.md)."""
        return sign(self.web["signing_secret"], urn)

    def get(self, path: str, expect: int = 200, **params: Any) -> dict:
        resp = self.client.get(path, headers=self.read, params=params)
        assert resp.status_code == expect, resp.text
        return resp.json()

    def cluster_of(self, urn: str) -> dict:
        return self.get("/v1/clusters/lookup", alias=urn)

    def counts(self) -> dict[str, int]:
        return count_nodes(self.driver)


@pytest.fixture
def api(app_client: TestClient, driver: neo4j.Driver) -> Api:
    wipe(driver)
    service: Service = app_client.app.state.service
    service._auth_cache.clear()
    web = service.add_source("shop-web", "web")
    hook = service.add_source("shop-backend", "webhook")
    made = Api(
        client=app_client, driver=driver, web=web, hook=hook,
        read_key=service.add_key("read")["key"], admin_key=service.add_key("admin")["key"],
    )

    def record(results: list[dict[str, Any]], _delta: Any) -> None:
        made.committed.append(results)

    record.api_fixture = True  # type: ignore[attr-defined]
    service.observers[:] = [o for o in service.observers if not hasattr(o, "api_fixture")]
    service.observers.append(record)
    return made
