"""Fault tests run against their own throwaway Neo4j (it gets SIGKILLed) and the API in
its own process (it gets SIGKILLed too). Each test adds a line to the summary printed at
the end of the run and written to ``tests/faults/last_run.json``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import neo4j
import pytest

from converge_graph.core import verify as verify_mod
from converge_graph.core.policy import Policy
from converge_graph.service import Service
from converge_graph.settings import Settings
from converge_graph.store.graph import Graph, connect
from tests.faults.load import Load
from tests.procs import LocalNeo4j

SUMMARY_FILE = Path(__file__).with_name("last_run.json")
RESULTS: list[dict[str, Any]] = []


@dataclass
class FaultDb:
    server: LocalNeo4j
    driver: neo4j.Driver
    token: str
    read_key: str
    admin_key: str
    web_token: str


@pytest.fixture(scope="package")
def fault_db(tmp_path_factory) -> Iterator[FaultDb]:
    home = tmp_path_factory.mktemp("fault-neo4j")
    server = LocalNeo4j(home)
    server.start(fresh=True)
    settings = Settings(NEO4J_URI=server.uri, NEO4J_PASSWORD="")
    driver = connect(settings)
    try:
        graph = Graph(driver, settings)
        graph.apply_schema()
        service = Service(graph, settings, Policy())
        yield FaultDb(
            server=server, driver=driver,
            token=service.add_source("fault-backend", "webhook")["token"],
            web_token=service.add_source("fault-web", "web")["token"],
            read_key=service.add_key("read")["key"], admin_key=service.add_key("admin")["key"],
        )
    finally:
        driver.close()
        server.stop()


def audit(db: FaultDb, load: Load) -> dict[str, Any]:
    """What the graph holds of this run's events, next to what the clients were told."""
    deadline = time.monotonic() + 60
    while True:  # the driver may still be finding the restarted server
        try:
            records, _, _ = db.driver.execute_query(
                "MATCH (e:Event) WHERE e.event_id STARTS WITH $prefix "
                "RETURN e.event_id AS event_id, "
                "       COUNT { (e)<-[:PERFORMED]-(:Profile) } AS performers, "
                "       COUNT { (e)-[:FROM]->(:Datasource) } AS sources, "
                "       coalesce(e.duplicates, 0) AS deduplicated_retries",
                prefix=f"{load.run}-")
            break
        except neo4j.exceptions.DriverError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    present: dict[str, int] = {}
    for r in records:
        present[r["event_id"]] = present.get(r["event_id"], 0) + 1
    t = load.tally
    return {
        "sent": len(t.sent),
        "acknowledged": len(t.acked),
        "present": len(present),
        "duplicates": sum(n - 1 for n in present.values() if n > 1),
        "acknowledged_missing": sorted(set(t.acked) - set(present))[:20],
        "not_sent_but_present": sorted(set(present) - t.sent)[:20],
        "events_without_one_performer_and_source": [
            r["event_id"] for r in records if (r["performers"], r["sources"]) != (1, 1)][:20],
        "retries": t.retries,
        "retries_deduplicated": sum(r["deduplicated_retries"] for r in records),
        "acks_saying_deduplicated": t.deduplicated_acks,
        "statuses": {str(k): v for k, v in sorted(t.statuses.items())},
        "transport_errors": dict(t.transport_errors),
        "503_without_retry_after": t.unavailable_without_retry_after,
        "given_up": len(t.given_up),
        "unexpected": t.bad[:5],
    }


def mismatched_clusters(db: FaultDb) -> int:
    """Profiles whose cluster_id disagrees with their SAME_AS component (`verify`)."""
    graph = Graph(db.driver, Settings(NEO4J_URI=db.server.uri, NEO4J_PASSWORD=""))
    profiles = [(r["profile_id"], r["cluster_id"]) for r in graph.stream("verify_profiles")]
    links = [(r["from"], r["to"]) for r in graph.stream("verify_links")]
    return len(verify_mod.mismatches(profiles, links))


def record(fault: str, counts: dict[str, Any], **extra: Any) -> None:
    RESULTS.append({"fault": fault, **counts, **extra})
    SUMMARY_FILE.write_text(json.dumps(
        {"when": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "runs": RESULTS}, indent=2) + "\n")
    print(f"\n{summary_line(RESULTS[-1])}")


def summary_line(r: dict[str, Any]) -> str:
    return (f"fault {r['fault']}: sent={r['sent']} acknowledged={r['acknowledged']} "
            f"present={r['present']} duplicates={r['duplicates']} retries={r['retries']} "
            f"retries_deduplicated={r['retries_deduplicated']} "
            f"503s={r['statuses'].get('503', 0)} 500s={r['statuses'].get('500', 0)}")


def pytest_terminal_summary(terminalreporter) -> None:
    if RESULTS:
        terminalreporter.section("fault tests: nothing acknowledged was lost")
        for r in RESULTS:
            terminalreporter.write_line(summary_line(r))
        terminalreporter.write_line(f"(details in {SUMMARY_FILE.relative_to(Path.cwd())})"
                                    if SUMMARY_FILE.is_relative_to(Path.cwd())
                                    else f"(details in {SUMMARY_FILE})")
