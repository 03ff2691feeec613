"""Random identity workloads with their expected answer: the connected components of the
alias co-occurrence graph (networkx), which the maintained clusters must equal."""

from __future__ import annotations

import random
from dataclasses import dataclass

import neo4j
import networkx as nx

TYPES = ("login", "phone_hash", "cart", "device", "loyalty")


@dataclass(frozen=True)
class Op:
    aliases: tuple[str, ...]
    event_id: str | None
    name: str


def random_ops(seed: int, writes: int, pool: int, max_aliases: int = 3) -> list[Op]:
    rng = random.Random(seed)
    urns = [f"urn:{rng.choice(TYPES)}:v{n}" for n in range(pool)]
    ops = []
    for n in range(writes):
        k = rng.randint(1, max_aliases)
        event_id = f"e{rng.randrange(writes)}" if rng.random() < 0.1 else None
        ops.append(Op(tuple(rng.sample(urns, k)), event_id, f"op{n}"))
    return ops


def expected_partition(ops: list[Op]) -> set[frozenset[str]]:
    """Aliases of one write are one person; a repeated event id joins its writers too."""
    g = nx.Graph()
    first_writer: dict[str, str] = {}
    for op in ops:
        g.add_node(op.name)
        for urn in op.aliases:
            g.add_edge(op.name, urn)
        if op.event_id is not None:
            g.add_edge(op.name, first_writer.setdefault(op.event_id, op.name))
    return {frozenset(n for n in comp if n.startswith("urn:")) for comp in
            nx.connected_components(g)} - {frozenset()}


def actual_partition(driver: neo4j.Driver) -> set[frozenset[str]]:
    records, _, _ = driver.execute_query(
        "MATCH (p:Profile)-[:HAS_ALIAS]->(a:Alias) "
        "RETURN p.cluster_id AS cluster, collect(DISTINCT a.urn) AS urns"
    )
    by_cluster: dict[str, set[str]] = {}
    for r in records:
        by_cluster.setdefault(r["cluster"], set()).update(r["urns"])
    return {frozenset(v) for v in by_cluster.values()}


def duplicate_keys(driver: neo4j.Driver) -> list[dict]:
    records, _, _ = driver.execute_query("""
        UNWIND [['Event', 'event_id'], ['Alias', 'urn'], ['Profile', 'profile_id']] AS lk
        CALL (lk) {
          MATCH (n) WHERE lk[0] IN labels(n)
          WITH n[lk[1]] AS key, count(*) AS c WHERE c > 1
          RETURN key, c
        }
        RETURN lk[0] AS label, key, c""")
    return [r.data() for r in records]


def maintained_and_recomputed(driver: neo4j.Driver) -> tuple[set[frozenset], set[frozenset]]:
    """Profiles grouped by their maintained cluster_id, and the connected components of
    SAME_AS recomputed from scratch with networkx: the two must be equal."""
    profiles, _, _ = driver.execute_query(
        "MATCH (p:Profile) RETURN p.profile_id AS id, p.cluster_id AS cluster")
    links, _, _ = driver.execute_query(
        "MATCH (a:Profile)-[:SAME_AS]->(b:Profile) RETURN a.profile_id AS a, b.profile_id AS b")
    g = nx.Graph()
    g.add_nodes_from(r["id"] for r in profiles)
    g.add_edges_from((r["a"], r["b"]) for r in links)
    by_cluster: dict[str, set[str]] = {}
    for r in profiles:
        by_cluster.setdefault(r["cluster"], set()).add(r["id"])
    return ({frozenset(v) for v in by_cluster.values()},
            {frozenset(c) for c in nx.connected_components(g)})
