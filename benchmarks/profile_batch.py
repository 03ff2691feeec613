"""Profile one batch ingest (``Service.ingest_batch``) in-process with pyinstrument.

Against the Neo4j of NEO4J_URI, into whatever graph is there (``run.py`` calls it after
the lookup phase, so the batch meets a graph of 100k events). One warm-up batch of
other people first, then a batch of ``--size`` new people's events is profiled.
Writes ``profile.txt`` and ``profile.html`` to ``--out`` and prints a JSON summary:
hot spots by own time, time by package (time inside the driver's socket reads is
time spent waiting for Neo4j), and the project's own frames by total time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from neo4j import ManagedTransaction
from pyinstrument import Profiler

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import as_webhook, generate_events  # noqa: E402

from converge_graph.core.policy import Policy  # noqa: E402
from converge_graph.models import WebhookEvent  # noqa: E402
from converge_graph.service import Service, Write  # noqa: E402
from converge_graph.settings import Settings  # noqa: E402
from converge_graph.store.graph import Graph, connect  # noqa: E402

# Most specific first: neo4j/time is the driver's temporal types, neo4j/_codec its packstream.
PACKAGES = ("converge_graph", "neo4j/time", "neo4j/_codec", "neo4j", "pydantic",
            "email_validator", "phonenumbers", "json", "socket", "ssl", "selectors",
            "threading", "uuid", "datetime")


def writes_for(source: dict, size: int, seed: int, first_person: int) -> list[Write]:
    items = generate_events(int(size * 1.2) + 20, seed=seed, first_person=first_person)[:size]
    out = []
    for item in items:
        event = WebhookEvent.model_validate(as_webhook(item))
        out.append(Write(source=source, method=event.method, event_name=event.event_name,
                         properties=event.properties, profile_properties=event.profile_properties,
                         event_id=event.event_id, aliases=event.aliases,
                         timestamp=event.timestamp))
    return out


def package_of(frame: Any) -> str:
    path = frame.file_path or ""
    if path.startswith("<built-in>"):
        return f"built-in {frame.function}"  # socket.recv_into: waiting for Neo4j's answer
    for name in PACKAGES:
        if f"/{name}/" in path or path.endswith(f"/{name}.py"):
            return name
    return "other"


def walk(frame: Any):
    yield frame
    for child in frame.children:
        yield from walk(child)


def analyse(profiler: Profiler, top: int = 12) -> dict[str, Any]:
    root = profiler.last_session.root_frame()
    own: dict[str, float] = defaultdict(float)
    by_package: dict[str, float] = defaultdict(float)
    project: dict[str, float] = defaultdict(float)
    for frame in walk(root):
        if frame.is_synthetic:  # [self] leaves: their time is the parent's total_self_time
            continue
        where = f"{frame.function} ({frame.file_path_short}:{frame.line_no})"
        own[where] += frame.total_self_time
        by_package[package_of(frame)] += frame.total_self_time
        if "converge_graph" in (frame.file_path or ""):
            project[where] += frame.time  # per call path; the project does not recurse here
    total = root.time or 1.0

    def ranked(table: dict[str, float]) -> list[dict[str, Any]]:
        rows = sorted(table.items(), key=lambda kv: -kv[1])[:top]
        return [{"frame": k, "seconds": round(v, 4), "share": round(v / total, 3)}
                for k, v in rows]

    return {"hot_spots": ranked(own), "by_package": ranked(by_package),
            "project_frames": ranked(project),
            "python_cpu_seconds": round(profiler.last_session.cpu_time, 3)}


class QueryTimer:
    """Wall time of every Graph method called with a transaction: one round trip each,
    results consumed inside, so the time is Neo4j's answer plus the driver's decoding."""

    def __init__(self, graph: Graph) -> None:
        self.calls: dict[str, list[float]] = defaultdict(list)
        names = {str(name) for name in graph.q._text}
        for attr in dir(graph):
            method = getattr(graph, attr)
            if attr.startswith("_") or not callable(method):
                continue
            setattr(graph, attr, self._timed(attr, method, names))

    def _timed(self, attr: str, method: Any, names: set[str]) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            if not args or not isinstance(args[0], ManagedTransaction):
                return method(*args, **kwargs)
            named = len(args) > 1 and isinstance(args[1], str) and args[1] in names
            key = f"{attr}:{args[1]}" if named else attr
            started = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self.calls[key].append(time.perf_counter() - started)
        return timed

    def table(self) -> list[dict[str, Any]]:
        rows = [{"query": k, "calls": len(v), "seconds": round(sum(v), 4)}
                for k, v in self.calls.items()]
        return sorted(rows, key=lambda r: -r["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=500)
    ap.add_argument("--seed", type=int, default=9)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = ap.parse_args()
    settings = Settings()
    driver = connect(settings)
    graph = Graph(driver, settings)
    service = Service(graph, settings, Policy.load(settings.policy_file))
    found = graph.find_datasource_by_name("bench-backend")
    source = found[0] if found else service.add_source("bench-backend", "webhook")
    source = {k: source[k] for k in ("source_id", "name", "kind")}
    service.ingest_batch(writes_for(source, args.size, args.seed, 20_000_000))  # warm-up
    writes = writes_for(source, args.size, args.seed + 1, 30_000_000)
    profiler = Profiler(interval=0.001)
    profiler.start()
    started = time.perf_counter()
    results = service.ingest_batch(writes)
    seconds = time.perf_counter() - started
    profiler.stop()
    timer = QueryTimer(graph)  # a third batch of new people, timed per query, not profiled
    timed_writes = writes_for(source, args.size, args.seed + 2, 40_000_000)
    started = time.perf_counter()
    service.ingest_batch(timed_writes)
    timed_seconds = time.perf_counter() - started
    driver.close()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "profile.txt").write_text(profiler.output_text(unicode=True, color=False))
    (args.out / "profile.html").write_text(profiler.output_html())
    summary = {"events": len(writes), "results": len(results), "seconds": round(seconds, 3),
               "events_per_s": round(len(writes) / seconds, 1), **analyse(profiler),
               "queries": timer.table(), "queries_batch_seconds": round(timed_seconds, 3),
               "text": str(args.out / "profile.txt"), "html": str(args.out / "profile.html")}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
