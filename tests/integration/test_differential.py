"""Differential: after random workloads (browser and server writes, sets, repeated event
ids), the incrementally maintained cluster_ids equal connected components recomputed from
scratch over SAME_AS with networkx, and the alias partition equals the serial expectation."""

from __future__ import annotations

import random

import pytest

from converge_graph.service import Write
from tests.integration.workload import (
    Op,
    actual_partition,
    expected_partition,
    maintained_and_recomputed,
    random_ops,
)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_maintained_cluster_ids_equal_recomputed_components(linking_service, driver, seed):
    web = linking_service.add_source("web", "web")
    hook = linking_service.add_source("hook", "webhook")
    rng = random.Random(seed)
    effective = []  # each write as the expectation sees it
    for op in random_ops(seed=seed, writes=300, pool=260):
        if rng.random() < 0.4:
            # A browser write: its cookie is one more alias of the write.
            cookie = f"c{rng.randrange(150)}"
            method = rng.choice(["track", "set"])
            event_id = op.event_id if method == "track" else None
            result = linking_service.ingest(Write(
                source=web, method=method, event_name="View", aliases=list(op.aliases),
                event_id=event_id, cookie_id=cookie))
            # A browser write may not bridge two established people (docs/security.md): what
            # it was refused is no evidence of anything, so the expectation leaves it out.
            refused = {i["alias"] for i in result["ignored_aliases"]
                       if i["reason"].startswith("bridge:")}
            kept = tuple(a for a in op.aliases if a not in refused)
            effective.append(Op(kept + (f"urn:cookie:{cookie}",),
                                None if f"event:{event_id}" in refused else event_id, op.name))
        else:
            result = linking_service.ingest(Write(
                source=hook, method="track", event_name="Order", aliases=list(op.aliases),
                event_id=op.event_id))
            assert result["ignored_aliases"] == []  # pure linking refuses a backend nothing
            effective.append(op)
    maintained, recomputed = maintained_and_recomputed(driver)
    assert maintained == recomputed
    assert actual_partition(driver) == expected_partition(effective)
