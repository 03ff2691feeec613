"""The `deliveries{status}` gauge (docs/destinations.md#operations): counted in Neo4j at
every /metrics scrape, so its cost must not grow with the deliveries already made."""

from __future__ import annotations

from typing import Any

import neo4j

from converge_graph.store.graph import Graph
from converge_graph.store.queries import Q

MIX = {"pending": 7, "failed": 3, "dead": 2, "skipped": 4, "delivered": 3000}


def seed(driver: neo4j.Driver, mix: dict[str, int]) -> None:
    rows = [{"id": f"msg_{status}_{i}", "status": status}
            for status, n in mix.items() for i in range(n)]
    driver.execute_query("UNWIND $rows AS row CREATE (:Delivery {delivery_id: row.id, "
                         "status: row.status, attempts: 0})", rows=rows)


def profiled(driver: neo4j.Driver, query: str) -> dict[str, Any]:
    with driver.session() as session:
        result = session.run("PROFILE " + query)
        return result.consume().profile


def operators(plan: dict[str, Any]) -> list[str]:
    return [plan["operatorType"].split("@")[0]] + [
        o for child in plan.get("children", []) for o in operators(child)]


def db_hits(plan: dict[str, Any]) -> int:
    return plan.get("dbHits", 0) + sum(db_hits(c) for c in plan.get("children", []))


def test_counts_by_status_equal_a_full_count(clean: Graph, driver: neo4j.Driver):
    seed(driver, MIX)
    assert clean.delivery_counts() == MIX


def test_counts_are_zero_for_every_status_when_nothing_was_recorded(clean: Graph):
    assert clean.delivery_counts() == dict.fromkeys(MIX, 0)


def test_counting_reads_no_delivered_item_and_scans_no_label(clean: Graph,
                                                             driver: neo4j.Driver):
    seed(driver, MIX)
    plan = profiled(driver, clean.q[Q.delivery_counts])
    used = operators(plan)
    assert "NodeCountFromCountStore" in used and "NodeIndexSeek" in used
    assert not {"NodeByLabelScan", "AllNodesScan"} & set(used), used
    # Index entries of the 16 unfinished or refused items, one count-store read, and
    # nothing for each of the 3,000 delivered ones (a label scan costs over 6,000).
    assert db_hits(plan) < 100, db_hits(plan)
