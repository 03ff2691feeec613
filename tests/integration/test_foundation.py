"""The foundation: schema applied idempotently, queries loaded from files that must exist,
readiness that tells the truth about Neo4j."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from converge_graph.api import create_app
from converge_graph.errors import QueryFileError
from converge_graph.settings import Settings
from converge_graph.store.graph import Graph
from converge_graph.store.queries import Queries

ROOT = Path(__file__).resolve().parents[2]


def schema_objects(driver) -> set[tuple]:
    constraints, _, _ = driver.execute_query(
        "SHOW CONSTRAINTS YIELD name, labelsOrTypes, properties, type "
        "RETURN name, labelsOrTypes, properties, type")
    indexes, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, labelsOrTypes, properties, type "
        "RETURN name, labelsOrTypes, properties, type")
    return {(r["name"], tuple(r["labelsOrTypes"] or ()), tuple(r["properties"] or ()), r["type"])
            for r in list(constraints) + list(indexes)}


def test_applying_the_schema_twice_changes_nothing(graph, driver):
    graph.apply_schema()
    first = schema_objects(driver)
    graph.apply_schema()
    assert schema_objects(driver) == first
    uniques = {(labels, props) for _, labels, props, kind in first if kind == "UNIQUENESS"}
    assert {(("Event",), ("event_id",)), (("Alias",), ("urn",)),
            (("Profile",), ("profile_id",)), (("Datasource",), ("source_id",))} <= uniques
    assert any(labels == ("Profile",) and props == ("cluster_id",) and kind == "RANGE"
               for _, labels, props, kind in first)


def copy_of_cypher(tmp_path):
    cypher = tmp_path / "cypher"
    shutil.copytree(ROOT / "cypher", cypher)
    return cypher


def test_a_missing_query_file_fails_with_its_path(tmp_path):
    cypher = copy_of_cypher(tmp_path)
    (cypher / "lock_clusters.cypher").unlink()
    with pytest.raises(QueryFileError, match=str(cypher / "lock_clusters.cypher")):
        Queries(cypher)


def test_an_empty_query_file_fails_with_its_path(tmp_path):
    cypher = copy_of_cypher(tmp_path)
    (cypher / "read_event.cypher").write_text("// only a header\n")
    with pytest.raises(QueryFileError, match="read_event.cypher has no statement"):
        Queries(cypher)


def test_a_query_whose_header_misstates_its_params_fails_naming_both(tmp_path):
    cypher = copy_of_cypher(tmp_path)
    path = cypher / "read_event.cypher"
    path.write_text(path.read_text().replace("$event_id", "$eventId", 1))
    with pytest.raises(QueryFileError, match=r"read_event.cypher: the header declares"):
        Queries(cypher)


def test_start_up_fails_when_a_query_file_is_missing(tmp_path, neo4j_settings):
    cypher = tmp_path / "cypher"
    shutil.copytree(ROOT / "cypher", cypher)
    (cypher / "read_batch.cypher").unlink()
    settings = neo4j_settings.model_copy(update={"cypher_dir": cypher})
    with pytest.raises(QueryFileError, match="read_batch.cypher is missing"):
        with TestClient(create_app(settings)):
            pass


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_readiness_is_503_with_a_reason_when_neo4j_is_down_and_health_stays_up():
    settings = Settings(NEO4J_URI=f"bolt://127.0.0.1:{_closed_port()}")
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").status_code == 200
        resp = client.get("/readyz")
        assert resp.status_code == 503
        assert resp.headers["retry-after"]
        assert resp.json()["status"] == "unavailable"
        assert "unreachable" in resp.json()["reason"]


def test_readiness_is_200_against_a_running_neo4j(app_client):
    resp = app_client.get("/readyz")
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"status": "ready"}


def test_graph_reports_no_missing_schema_after_start_up(graph):
    assert isinstance(graph, Graph)
    assert graph.missing_schema() == set()


def test_the_api_serves_from_several_worker_processes(service, neo4j_settings, tmp_path):
    import httpx2 as httpx

    from tests.procs import ApiProcess

    hook = service.add_source("workers", "webhook")
    api = ApiProcess(neo4j_settings.neo4j_uri, tmp_path / "api.log",
                     password=neo4j_settings.neo4j_password, extra_env={"API_WORKERS": "2"})
    api.start()
    try:
        results = [httpx.post(f"{api.base}/v1/webhook/{hook['token']}", timeout=30,
                              json={"event_name": "E", "event_id": f"w{n}",
                                    "aliases": ["urn:email:workers@shop.com"]})
                   for n in range(20)]
        assert [r.status_code for r in results] == [200] * 20
        clusters = {r.json()["cluster_id"] for r in results}
        assert len(clusters) == 1  # whichever process answered, one person
    finally:
        api.stop()
    assert "Started parent process" in api.log_tail(200)
