"""The statements every write and lookup runs keep the plan they were first given
(``CYPHER replan=skip``, docs/scaling.md#query-plans): Neo4j re-planning them as the graph
grew stalled every write for half a second. That is only safe while a plan made on an
empty graph is as good as one made on a big one, so each is planned here on the (nearly
empty) test database and must read nothing by scanning a label that grows with the data."""

from __future__ import annotations

import re

import neo4j

from converge_graph.core.cypher import _references
from converge_graph.store.graph import Graph
from converge_graph.store.queries import Q

PLANNED_ONCE = {Q.read_batch, Q.write_batch, Q.lock_clusters, Q.record_deliveries,
                Q.cluster_page}
# Labels that hold configuration, not data: a scan of one reads a handful of nodes.
SMALL_LABELS = {"Destination"}


def operators(plan: dict):
    yield plan
    for child in plan.get("children", []):
        yield from operators(child)


def explain(driver: neo4j.Driver, text: str) -> dict:
    """The statement's plan; every parameter null, and ``$d`` a map of empty lists."""
    params: dict = {name: None for name in _references(text)}
    if "d" in params:
        params["d"] = {key: [] for key in re.findall(r"\$d\.(\w+)", text)}
    with driver.session() as session:
        return session.run("EXPLAIN " + text, params).consume().plan


def test_the_hot_statements_are_planned_once(graph: Graph) -> None:
    skipping = {name for name in Q if "CYPHER replan=skip" in graph.q[name]}
    assert skipping == PLANNED_ONCE


def test_a_plan_made_on_an_empty_graph_scans_no_label_that_grows(
    driver: neo4j.Driver, graph: Graph
) -> None:
    for name in sorted(PLANNED_ONCE):
        plan = explain(driver, graph.q[name])
        scans = [(op["operatorType"], op["args"].get("Details", ""))
                 for op in operators(plan) if "Scan" in op["operatorType"]]
        unbounded = [(kind, what) for kind, what in scans
                     if not any(f":{label}" in what for label in SMALL_LABELS)]
        assert unbounded == [], f"{name}.cypher: {unbounded}"
