"""`converge-graph import`: a gzipped backfill with bad lines, and a re-run that adds nothing."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import neo4j
import pytest
from typer.testing import CliRunner

from converge_graph.cli import app
from converge_graph.cli.importer import derived_event_id, path_digest
from converge_graph.service import Service
from converge_graph.settings import Settings
from tests.conftest import count_nodes

JANE = "urn:email:jane@shop.com"

# One customer's backfill: a newsletter sign-up, a server-side order and its retry, a login
# and a page view without event ids, a `set`, a checkout in an anonymous device's session
# (Jane is known, so it takes the session's page view, not the device:
# docs/identity.md#a-known-persons-first-login) — and three lines the import must reject
# (line numbers 4, 7 and 10).
LINES = [
    {"event_name": "Subscribed To Newsletter", "event_id": "nl-1",
     "aliases": ["urn:email: Jane@Shop.com "]},
    {"event_name": "Order Completed", "event_id": "ord-1", "properties": {"total": 42.5},
     "profile_properties": {"$first_name": "Jane"},
     "aliases": [JANE, "urn:customer_id:C1"], "timestamp": "2024-05-01T10:00:00Z"},
    {"event_name": "Order Completed", "event_id": "ord-1", "properties": {"total": 42.5},
     "aliases": [JANE, "urn:customer_id:C1"], "timestamp": "2024-05-01T10:00:00Z"},
    '{"event_name": "Login", "aliases": [',
    {"event_name": "Login", "aliases": ["urn:customer_id:C1", "urn:cookie:dev-2"]},
    "",
    {"event_name": "Page View", "aliases": ["jane"]},
    {"method": "set", "aliases": ["urn:cookie:dev-2"], "profile_properties": {"plan": "pro"}},
    {"event_name": "Page View", "aliases": ["urn:cookie:dev-9"]},
    {"aliases": ["urn:cookie:dev-9"]},
    {"event_name": "Checkout Started", "event_id": "chk-1",
     "aliases": ["urn:cookie:dev-9", JANE]},
]


def write_gz(path: Path, lines: list) -> Path:
    text = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        handle.write(text + "\n")
    return path


def run_import(path: Path, *args: str) -> dict:
    outcome = CliRunner().invoke(app, ["import", str(path), "--source", "backfill", "--json",
                                       *args])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout.strip().splitlines()[-1])


def graph_shape(driver: neo4j.Driver) -> dict:
    counts = count_nodes(driver)
    records, _, _ = driver.execute_query(
        "MATCH (p:Profile) RETURN count(DISTINCT p.cluster_id) AS clusters")
    links, _, _ = driver.execute_query("MATCH ()-[r:SAME_AS]->() RETURN count(r) AS n")
    return {"events": counts.get("Event", 0), "profiles": counts.get("Profile", 0),
            "aliases": counts.get("Alias", 0), "links": links[0]["n"],
            "clusters": records[0]["clusters"], "relationships": counts["relationships"]}


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, neo4j_settings: Settings) -> None:
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.neo4j_uri)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.neo4j_password)


def test_backfill_imports_valid_lines_rejects_bad_ones_and_reruns_deduplicate_everything(
    service: Service, driver: neo4j.Driver, cli_env: None, tmp_path: Path
) -> None:
    service.add_source("backfill", "webhook")
    path = write_gz(tmp_path / "events.jsonl.gz", LINES)
    rejects = tmp_path / "rejects.jsonl"

    first = run_import(path, "--rejects", str(rejects), "--batch-size", "3")

    assert first["lines"] == 11 and first["blank"] == 1
    assert first["events"] == 5  # nl-1, ord-1, the login, the page view, chk-1
    assert first["duplicates"] == 1  # the retried order
    assert first["profile_updates"] == 1
    assert first["rejected"] == 3
    assert first["merges"] == 0  # the checkout takes dev-9's session, not the device
    shape = graph_shape(driver)
    assert shape == {**shape, "events": 5, "profiles": 2, "links": 0, "clusters": 2}
    records, _, _ = driver.execute_query(
        "MATCH (p:Profile)-[:PERFORMED]->(:Event {event_id: $id}) "
        "MATCH (p)-[:HAS_ALIAS]->(:Alias {urn: $jane}) RETURN count(p) AS n",
        id=derived_event_id(path_digest(path), 9), jane=JANE)
    assert records[0]["n"] == 1  # dev-9's page view is Jane's

    rejected = [json.loads(line) for line in rejects.read_text().splitlines()]
    assert [r["line"] for r in rejected] == [4, 7, 10]
    assert "not valid JSON" in rejected[0]["reason"]
    assert rejected[1]["field"] == "aliases[0]" and "urn:<type>:<value>" in rejected[1]["reason"]
    assert "event_name is required" in rejected[2]["reason"]
    assert rejected[2]["text"] == json.dumps(LINES[9])

    login_id = derived_event_id(path_digest(path), 5)
    records, _, _ = driver.execute_query(
        "MATCH (p:Profile)-[:PERFORMED]->(e:Event {event_id: $id})-[:FROM]->(d:Datasource) "
        "MATCH (p)-[:HAS_ALIAS]->(:Alias {urn: $jane}) RETURN d.name AS source",
        id=login_id, jane=JANE)
    assert [r["source"] for r in records] == ["backfill"]

    second = run_import(path, "--rejects", str(rejects))

    assert second["events"] == 0
    assert second["duplicates"] == 6
    assert second["merges"] == 0
    assert second["rejected"] == 3
    assert graph_shape(driver) == shape


def test_import_resumes_from_a_line_and_counts_only_what_it_read(
    service: Service, driver: neo4j.Driver, cli_env: None, tmp_path: Path
) -> None:
    service.add_source("backfill", "webhook")
    path = write_gz(tmp_path / "events.jsonl.gz", LINES)

    resumed = run_import(path, "--from-line", "9")

    assert resumed["lines"] == 3 and resumed["events"] == 2 and resumed["rejected"] == 1
    assert (tmp_path / "events.rejects.jsonl").is_file()  # the default reject file
    assert graph_shape(driver)["events"] == 2


def test_import_names_the_missing_datasource_and_how_to_create_it(
    service: Service, cli_env: None, tmp_path: Path
) -> None:
    path = write_gz(tmp_path / "events.jsonl.gz", LINES[:1])

    outcome = CliRunner().invoke(app, ["import", str(path), "--source", "nowhere"])

    assert outcome.exit_code == 2
    assert "sources add nowhere --kind webhook" in " ".join(outcome.output.split())


def test_rerun_of_an_event_whose_only_alias_is_junk_adds_no_profile(
    service: Service, driver: neo4j.Driver, cli_env: None, tmp_path: Path
) -> None:
    service.add_source("backfill", "webhook")
    path = write_gz(tmp_path / "events.jsonl.gz", [
        {"event_name": "Page View", "aliases": ["urn:email:test@example.com"]}])
    run_import(path)
    before = graph_shape(driver)

    run_import(path)

    assert graph_shape(driver) == before
