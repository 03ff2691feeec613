"""Resolution quality in seconds, without Neo4j: a generated stream replayed in memory.

Every item goes through the batch path's own steps — ``as_webhook`` (the relay shape the
batch endpoint takes), ``Ingest.admit`` (validation and alias screening) and
``core.batch.Overlay`` (the pure resolver under lock) — over one in-memory
``Neighbourhood`` that starts empty and holds everything written so far. That is what
``make bench``'s batch phase commits, batch after batch, so the figures are the same
(the partition is; cluster and profile ids are random). Pairwise precision and recall come
from ``quality.py``, beside the truth-aware ideal and naive stitching of the same stream.

    python benchmarks/replay.py --seeds 7,11,23,42
    python benchmarks/replay.py --seeds 7 --policy benchmarks/policies/one-email.toml
    python benchmarks/replay.py --seeds 7 --misses 20    # the false merges, biggest first
    NEO4J_URI=… python benchmarks/replay.py --seeds 7 --neo4j --yes  # and the real batch path

``--neo4j`` also commits the stream through ``Service.ingest_prepared`` (500 writes a
transaction, what the batch endpoint does) into the Neo4j of ``NEO4J_*`` — after DELETING
every node and relationship there — and checks that both give the same partition.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import Item, as_webhook, generate_events  # noqa: E402
from quality import ideal_components, naive_components, pairwise  # noqa: E402

from converge_graph.core.batch import (  # noqa: E402
    AliasState,
    EventState,
    Neighbourhood,
    Overlay,
    Prepared,
)
from converge_graph.core.policy import Policy  # noqa: E402
from converge_graph.service.ingest import Ingest, Rejection  # noqa: E402
from converge_graph.settings import Settings  # noqa: E402

SOURCE = {"source_id": "src_replay", "kind": "webhook"}


class _Admission(Ingest):
    """The ingest pipeline's validation and screening, without a store."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.settings = Settings()


def prepare(items: list[Item], policy: Policy) -> list[Prepared]:
    """Each item as the batch endpoint admits it (every generated item is valid)."""
    admission = _Admission(policy)
    out = []
    for n, item in enumerate(items):
        prepared = admission.admit(SOURCE, as_webhook(item), f"events[{n}]")
        if isinstance(prepared, Rejection):
            raise ValueError(f"item {n} was rejected: {prepared.to_dict()}")
        out.append(prepared)
    return out


def resolve(prepared: list[Prepared], policy: Policy, with_results: bool = False) -> Any:
    """Per write, the cluster its profile is in at the end, as one ever-growing batch; and
    the overlay (and each write's result, ``with_results``)."""
    nb = Neighbourhood({a.urn: AliasState([], False, False) for w in prepared for a in w.aliases},
                       {w.event_id: EventState(False, None, False)
                        for w in prepared if w.event_id}, {}, {}, {}, {}, {})
    overlay = Overlay(nb, policy, datetime(2025, 1, 1, tzinfo=UTC))
    results = [overlay.apply(i, w) for i, w in enumerate(prepared)]
    performers = {eid: ev.performer for eid, ev in nb.events.items() if ev.performer}
    labels = [overlay.find(nb.profile_cluster[p]) for p in placed(results, performers)]
    return (labels, overlay, results) if with_results else (labels, overlay)


def placed(results: list[dict[str, Any]], performers: dict[str, str]) -> list[str]:
    """Per write, the profile its event is on at the end (session stitching may have moved
    it since its write was answered); a write that stored no event of its own: its
    profile."""
    return [performers.get(r["event_id"], r["profile_id"])
            if r["event_id"] and not r["deduplicated"] else r["profile_id"] for r in results]


def scores(items: list[Item], labels: list[Any]) -> dict[str, Any]:
    known = [(i, c) for i, c in zip(items, labels, strict=True) if not i.unknowable]
    return {**pairwise([i.person for i in items], labels),
            "knowable": pairwise([i.person for i, _ in known], [c for _, c in known])}


def false_merges(items: list[Item], labels: list[str]) -> list[dict[str, Any]]:
    """Clusters holding more than one person: per cluster, the persons and their events,
    the false pairs it makes, biggest first."""
    by_cluster: dict[str, Counter] = {}
    for item, label in zip(items, labels, strict=True):
        by_cluster.setdefault(label, Counter())[item.person] += 1
    out = []
    for label, persons in by_cluster.items():
        if len(persons) > 1:
            total = sum(persons.values())
            false = (total * total - sum(n * n for n in persons.values())) // 2
            out.append({"cluster": label, "false_pairs": false, "persons": dict(persons)})
    return sorted(out, key=lambda m: -m["false_pairs"])


def committed(prepared: list[Prepared], policy: Policy, batch: int = 500) -> list[str]:
    """The same writes committed to Neo4j by the batch path, on an emptied database: per
    write, the cluster its profile is in at the end."""
    from harness import wipe

    from converge_graph.service import Service

    service = Service.open(Settings(), policy)
    try:
        wipe(service.graph.driver, service.graph.database)
        # The writes' source, so that their events are stored with their performer.
        service.graph.driver.execute_query("CREATE (:Datasource {source_id: $id})",
                                           id=SOURCE["source_id"],
                                           database_=service.graph.database)
        results = []
        for start in range(0, len(prepared), batch):
            results += service.ingest_prepared(prepared[start:start + batch])
        rows, _, _ = service.graph.driver.execute_query(
            "MATCH (p:Profile) RETURN p.profile_id AS p, p.cluster_id AS c",
            database_=service.graph.database)
        performed, _, _ = service.graph.driver.execute_query(
            "MATCH (p:Profile)-[:PERFORMED]->(e:Event) RETURN e.event_id AS e, p.profile_id AS p",
            database_=service.graph.database)
    finally:
        service.close()
    cluster = {r["p"]: r["c"] for r in rows}
    return [cluster[p] for p in placed(results, {r["e"]: r["p"] for r in performed})]


def partition(labels: list[str]) -> set[frozenset[int]]:
    groups: dict[str, set[int]] = {}
    for index, label in enumerate(labels):
        groups.setdefault(label, set()).add(index)
    return {frozenset(g) for g in groups.values()}


def run(seed: int, events: int, policy: Policy, misses: int, neo4j: bool = False
        ) -> dict[str, Any]:
    items = generate_events(events, seed)
    prepared = prepare(items, policy)
    started = time.process_time()
    labels, _ = resolve(prepared, policy)
    cpu = time.process_time() - started
    out = {"seed": seed, "events": len(items), "resolve_cpu_s": round(cpu, 3),
           "ours": scores(items, labels), "ideal": scores(items, ideal_components(items)),
           "naive": scores(items, naive_components(items))}
    if misses:
        out["false_merges"] = false_merges(items, labels)[:misses]
    if neo4j:
        out["neo4j_same_partition"] = partition(committed(prepared, policy)) == partition(labels)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="7", help="comma-separated generator seeds")
    parser.add_argument("--events", type=int, default=20000, help="events per stream")
    parser.add_argument("--policy", type=Path, help="a policy file (TOML or JSON)")
    parser.add_argument("--misses", type=int, default=0, help="list this many false merges")
    parser.add_argument("--json", action="store_true", help="one JSON object per seed")
    parser.add_argument("--neo4j", action="store_true",
                        help="also commit each stream to the NEO4J_* database (wipes it) and "
                        "check the partition is the same")
    parser.add_argument("--yes", action="store_true", help="confirm --neo4j may wipe")
    args = parser.parse_args()
    if args.neo4j and not args.yes:
        parser.error("--neo4j DELETES every node and relationship of the NEO4J_* database; "
                     "confirm with --yes")
    policy = Policy.load(args.policy)
    for seed in (int(s) for s in args.seeds.split(",")):
        result = run(seed, args.events, policy, args.misses, args.neo4j)
        if args.json:
            print(json.dumps(result))
            continue
        ours, ideal, naive = result["ours"], result["ideal"], result["naive"]
        print(f"seed {seed:>3} ({result['events']} events, resolve {result['resolve_cpu_s']} s "
              f"CPU): ours P {ours['precision']:.3f} R {ours['recall']:.3f} | "
              f"ideal P {ideal['precision']:.3f} R {ideal['recall']:.3f} | "
              f"naive P {naive['precision']:.3f} R {naive['recall']:.3f} | "
              f"R/ideal {ours['recall'] / ideal['recall']:.3f}")
        if "neo4j_same_partition" in result:
            print(f"    Neo4j batch path, same partition: {result['neo4j_same_partition']}")
        for miss in result.get("false_merges", []):
            print(f"    {miss['false_pairs']:>6} false pairs: persons {miss['persons']}")


if __name__ == "__main__":
    main()
