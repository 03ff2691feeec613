"""Concurrent writers on overlapping aliases end where a serial run would: the clusters are
the connected components of the alias co-occurrence graph, with no duplicate node."""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

from typer.testing import CliRunner

from converge_graph.cli import app
from converge_graph.service import Write
from tests.integration.workload import (
    actual_partition,
    duplicate_keys,
    expected_partition,
    random_ops,
)


def test_eight_threads_two_thousand_overlapping_writes_equal_the_serial_components(
    linking_service, driver, neo4j_settings, monkeypatch
):
    source = linking_service.add_source("load", "webhook")
    ops = random_ops(seed=7, writes=2000, pool=2500)
    order = list(ops)
    random.Random(11).shuffle(order)

    def post(op):
        return linking_service.ingest(Write(
            source=source, method="track", event_name="Load", aliases=list(op.aliases),
            event_id=op.event_id,
        ))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(post, order))

    assert len(results) == 2000
    assert actual_partition(driver) == expected_partition(ops)
    assert duplicate_keys(driver) == []
    records, _, _ = driver.execute_query(
        "MATCH (e:Event) RETURN count(e) AS events, sum(coalesce(e.duplicates, 0)) AS dups")
    distinct_ids = {op.event_id for op in ops if op.event_id} | set()
    no_id = sum(1 for op in ops if op.event_id is None)
    assert records[0]["events"] == len(distinct_ids) + no_id
    assert records[0]["dups"] == sum(1 for op in ops if op.event_id) - len(distinct_ids)

    monkeypatch.setenv("NEO4J_URI", neo4j_settings.neo4j_uri)
    outcome = CliRunner().invoke(app, ["verify"])
    assert outcome.exit_code == 0, outcome.output
