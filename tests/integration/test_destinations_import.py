"""`converge-graph import` and destinations (docs/destinations.md#imports-and-destinations):
a backfill of history sends no event anywhere unless asked, while the identity changes it
makes reach identity subscribers as any write's do."""

from __future__ import annotations

import json
from pathlib import Path

import neo4j
import pytest
from typer.testing import CliRunner

from converge_graph.cli import app
from converge_graph.service import Service, Write
from converge_graph.settings import Settings

JANE = "urn:email:jane@shop.com"
C1 = "urn:customer_id:C1"


@pytest.fixture
def shop(service: Service, monkeypatch: pytest.MonkeyPatch, neo4j_settings: Settings) -> dict:
    """A backend source, a destination that wants every event and identity change, and two
    people the backend reported live: Jane by email, customer C1 by id."""
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.neo4j_uri)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.neo4j_password)
    hook = service.add_source("backfill", "webhook")
    service.add_destination("crm", "http://127.0.0.1:9/hook", identity_events=True)
    service.ingest(Write(source=hook, method="track", event_name="Subscribed",
                         event_id="live-1", aliases=[JANE]))
    service.ingest(Write(source=hook, method="track", event_name="Signed Up",
                         event_id="live-2", aliases=[C1]))
    return hook


def history(tmp_path: Path, *events: dict) -> Path:
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def imported(path: Path, *args: str) -> dict:
    outcome = CliRunner().invoke(app, ["import", str(path), "--source", "backfill", "--json",
                                       *args])
    assert outcome.exit_code == 0, outcome.output
    return json.loads(outcome.stdout.strip().splitlines()[-1])


def deliveries(driver: neo4j.Driver, topic: str) -> list[dict]:
    records, _, _ = driver.execute_query(
        "MATCH (x:Delivery {topic: $topic}) RETURN x.event_id AS event_id, "
        "x.cluster_id AS cluster_id, x.cluster_ids AS cluster_ids ORDER BY event_id",
        topic=topic)
    return [r.data() for r in records]


ORDER = {"event_name": "Order Completed", "event_id": "ord-1", "aliases": [JANE, C1],
         "timestamp": "2024-05-01T10:00:00Z"}


def test_imported_events_record_no_deliveries_by_default(shop, driver, tmp_path):
    summary = imported(history(tmp_path, {"event_name": "Page View", "aliases": [JANE]},
                               {**ORDER, "aliases": [JANE]}))
    assert summary["events"] == 2 and summary["forwarded"] is False
    assert [d["event_id"] for d in deliveries(driver, "event")] == ["live-1", "live-2"]


def test_an_import_that_joins_two_people_still_reports_the_merge(shop, service, driver,
                                                                  tmp_path):
    people = {service.lookup(JANE), service.lookup(C1)}
    imported(history(tmp_path, ORDER), "--no-forward")
    assert [d["event_id"] for d in deliveries(driver, "event")] == ["live-1", "live-2"]
    [merged] = deliveries(driver, "identity.merged")
    assert set(merged["cluster_ids"]) == people
    assert merged["cluster_id"] in people and service.lookup(C1) == merged["cluster_id"]


def test_forward_sends_imported_events_as_live_ones_are_sent(shop, driver, tmp_path):
    summary = imported(history(tmp_path, ORDER), "--forward")
    assert summary["forwarded"] is True
    assert [d["event_id"] for d in deliveries(driver, "event")] == ["live-1", "live-2", "ord-1"]


def test_a_live_repeat_of_an_imported_event_is_not_sent_either(shop, service, driver,
                                                                tmp_path):
    imported(history(tmp_path, {**ORDER, "aliases": [JANE]}))
    repeat = service.ingest(Write(source=shop, method="track", event_name="Order Completed",
                                  event_id="ord-1", aliases=[JANE]))
    assert repeat["deduplicated"] is True
    assert [d["event_id"] for d in deliveries(driver, "event")] == ["live-1", "live-2"]


def test_the_summary_says_whether_events_went_to_destinations(shop, tmp_path):
    outcome = CliRunner().invoke(app, ["import", str(history(tmp_path, ORDER)),
                                       "--source", "backfill"])
    assert outcome.exit_code == 0, outcome.output
    assert "events sent to destinations" in outcome.output
    assert "no" in outcome.output.split("events sent to destinations")[1].split("\n")[0]
