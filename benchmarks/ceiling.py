"""The Neo4j ceiling: the graph our ingest built, rewritten by plain ``UNWIND … CREATE``.

A census of the resolved graph (nodes per label, relationships per type and end
labels, one real property map of each) is replayed with no identity logic at all:
per chunk of ``batch_events`` events one transaction creates that chunk's share of
every label with ``UNWIND $rows CREATE``, then its share of every relationship type
between nodes matched by their constrained key. Same schema, same property sizes,
same batch granularity, one client: what this Neo4j can write, and so the bound
any identity resolver on it is measured against.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import neo4j

KEYS = {"Event": "event_id", "Alias": "urn", "Profile": "profile_id", "Datasource": "source_id",
        "Cluster": "cluster_id", "ApiKey": "key_hash", "Conflict": "conflict_id"}


@dataclass
class Census:
    nodes: dict[str, int] = field(default_factory=dict)
    rels: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (type, from, to)
    node_props: dict[str, dict[str, Any]] = field(default_factory=dict)
    rel_props: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def total_nodes(self) -> int:
        return sum(self.nodes.values())

    @property
    def total_rels(self) -> int:
        return sum(self.rels.values())

    def as_dict(self) -> dict[str, Any]:
        return {"nodes": self.nodes, "relationships": {
            f"({a})-[:{t}]->({b})": n for (t, a, b), n in sorted(self.rels.items())}}


def census(driver: neo4j.Driver, database: str = "neo4j") -> Census:
    c = Census()
    rows, _, _ = driver.execute_query(
        "MATCH (n) WITH labels(n)[0] AS label, count(*) AS n RETURN label, n", database_=database)
    c.nodes = {r["label"]: r["n"] for r in rows if r["label"]}
    rows, _, _ = driver.execute_query(
        "MATCH (a)-[r]->(b) RETURN type(r) AS t, labels(a)[0] AS a, labels(b)[0] AS b, "
        "count(*) AS n", database_=database)
    c.rels = {(r["t"], r["a"], r["b"]): r["n"] for r in rows}
    for label in c.nodes:
        # The richest node of a label stands for all: the ceiling must not write less.
        rows, _, _ = driver.execute_query(
            f"MATCH (n:`{label}`) WITH n LIMIT 200 "
            "RETURN properties(n) AS p ORDER BY size(keys(n)) DESC LIMIT 1", database_=database)
        c.node_props[label] = rows[0]["p"] if rows else {}
    for rel_type in {t for t, _, _ in c.rels}:
        rows, _, _ = driver.execute_query(
            f"MATCH ()-[r:`{rel_type}`]->() WITH r LIMIT 200 "
            "RETURN properties(r) AS p ORDER BY size(keys(r)) DESC LIMIT 1", database_=database)
        c.rel_props[rel_type] = rows[0]["p"] if rows else {}
    return c


def _share(total: int, parts: int, index: int) -> int:
    return total // parts + (1 if index < total % parts else 0)


def _plan(c: Census, chunks: int) -> list[dict[str, Any]]:
    """Per chunk: node rows per label and relationship rows per (type, from, to)."""
    made: dict[str, list[str]] = {label: [] for label in c.nodes}
    plan = []
    for j in range(chunks):
        step: dict[str, Any] = {"nodes": {}, "rels": {}}
        fresh: dict[str, list[str]] = {}
        for label, total in c.nodes.items():
            key = KEYS.get(label, "id")
            n = _share(total, chunks, j)
            keys = [f"ceil_{label}_{len(made[label]) + i}" for i in range(n)]
            step["nodes"][label] = [{**c.node_props[label], key: k} for k in keys]
            made[label].extend(keys)
            fresh[label] = keys
        for (rel_type, a, b), total in c.rels.items():
            n = _share(total, chunks, j)
            froms = fresh.get(a) or made[a]
            tos = fresh.get(b) or made[b]
            if not n or not froms or not tos:
                continue
            step["rels"][(rel_type, a, b)] = [
                {"a": froms[i % len(froms)], "b": tos[(i * 7 + 3) % len(tos)],
                 "props": c.rel_props.get(rel_type, {})} for i in range(n)]
        plan.append(step)
    return plan


def _work(step: dict[str, Any]):
    def work(tx: neo4j.ManagedTransaction) -> None:
        for label, rows in step["nodes"].items():
            if rows:
                tx.run(f"UNWIND $rows AS r CREATE (n:`{label}`) SET n = r", rows=rows).consume()
        for (rel_type, a, b), rows in step["rels"].items():
            ka, kb = KEYS.get(a, "id"), KEYS.get(b, "id")
            tx.run(f"UNWIND $rows AS r MATCH (a:`{a}` {{`{ka}`: r.a}}) "
                   f"MATCH (b:`{b}` {{`{kb}`: r.b}}) CREATE (a)-[x:`{rel_type}`]->(b) "
                   "SET x = r.props", rows=rows).consume()
    return work


def run_ceiling(driver: neo4j.Driver, c: Census, events: int, batch_events: int,
                database: str = "neo4j") -> dict[str, Any]:
    """Write the census; the rate is in events per second (the events the graph holds)."""
    chunks = max(1, -(-events // batch_events))
    plan = _plan(c, chunks)
    started = time.perf_counter()
    with driver.session(database=database) as session:
        for step in plan:
            session.execute_write(_work(step))
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "events": events, "chunks": chunks,
            "nodes": c.total_nodes, "relationships": c.total_rels,
            "events_per_s": round(events / seconds, 1),
            "entities_per_s": round((c.total_nodes + c.total_rels) / seconds, 1)}


# -- the raw ceiling: no constraints, no index lookups, large transactions ----------------
RAW_CHUNK_EVENTS = 5000


def _raw_plan(c: Census, chunks: int) -> list[dict[str, Any]]:
    """Per chunk: node rows per label and relationship rows as positions into the nodes the
    same statement creates. A label with fewer nodes than chunks is written whole by the
    first chunk and read back (a label scan of a few nodes) by the others."""
    small = {label for label, total in c.nodes.items() if total < chunks}
    plan = []
    for j in range(chunks):
        nodes = {label: (total if j == 0 else 0) if label in small else _share(total, chunks, j)
                 for label, total in c.nodes.items()}
        rels = {}
        for (rel_type, a, b), total in c.rels.items():
            n = _share(total, chunks, j)
            na = c.nodes[a] if a in small else nodes[a]
            nb = c.nodes[b] if b in small else nodes[b]
            if n and na and nb:
                rels[(rel_type, a, b)] = [{"a": i % na, "b": (i * 7 + 3) % nb,
                                           "props": c.rel_props.get(rel_type, {})}
                                          for i in range(n)]
        plan.append({"nodes": nodes, "rels": rels, "small": small, "first": j == 0})
    return plan


def _raw_statement(c: Census, step: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    labels = sorted(c.nodes)
    parts, d = [], {}
    for i, label in enumerate(labels):
        if label in step["small"] and not step["first"]:
            parts.append(f"CALL () {{ MATCH (n:`Raw{label}`) RETURN collect(n) AS n{i} }}")
        else:
            d[f"n{i}"] = [c.node_props[label]] * step["nodes"][label]
            parts.append(f"CALL () {{ UNWIND $d.n{i} AS r CREATE (n:`Raw{label}`) SET n = r "
                         f"RETURN collect(n) AS n{i} }}")
    for k, ((rel_type, a, b), rows) in enumerate(sorted(step["rels"].items())):
        ia, ib = labels.index(a), labels.index(b)
        d[f"r{k}"] = rows
        scope = f"n{ia}" if ia == ib else f"n{ia}, n{ib}"
        parts.append(f"CALL ({scope}) {{ UNWIND $d.r{k} AS r WITH r, n{ia}[r.a] AS a, "
                     f"n{ib}[r.b] AS b CREATE (a)-[x:`{rel_type}`]->(b) SET x = r.props }}")
    return "\n".join(parts) + "\nRETURN 1 AS done", d


def run_raw_ceiling(driver: neo4j.Driver, c: Census, events: int,
                    chunk_events: int = RAW_CHUNK_EVENTS, database: str = "neo4j"
                    ) -> dict[str, Any]:
    """The same node and relationship counts with none of the schema's costs: labels no
    constraint or index covers (``Raw…``), relationships between nodes the statement just
    created (no lookups), ``chunk_events`` events per transaction. What this Neo4j writes
    at all: the bound no resolver that keeps keys unique can reach."""
    chunks = max(1, -(-events // chunk_events))
    statements = [_raw_statement(c, step) for step in _raw_plan(c, chunks)]
    with driver.session(database=database) as session, session.begin_transaction() as tx:
        for query, d in {q: p for q, p in statements}.items():  # plan each, untimed: the
            tx.run(query, d=d).consume()  # first creates what later chunks read back
        tx.rollback()
    started = time.perf_counter()
    with driver.session(database=database) as session:
        for query, d in statements:
            session.execute_write(lambda tx, q=query, p=d: tx.run(q, d=p).consume())
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 3), "events": events, "chunks": chunks,
            "chunk_events": chunk_events, "nodes": c.total_nodes,
            "relationships": c.total_rels, "events_per_s": round(events / seconds, 1),
            "entities_per_s": round((c.total_nodes + c.total_rels) / seconds, 1)}
