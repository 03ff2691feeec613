"""converge-graph benchmark: throughput, the Neo4j ceiling, lookup latency, quality, footprint.

Run by ``make bench`` (or ``.venv/bin/python benchmarks/run.py --yes``) against the Neo4j
named by NEO4J_URI / NEO4J_PASSWORD or ``--neo4j-uri``. It WIPES that database, starts
the API (uvicorn) on a free loopback port, and measures in one run:

1. ingest events/s: the batch endpoint, single-event HTTP with 32 concurrent clients and
   with one client in arrival order, and ``converge-graph import``;
2. two Neo4j ceilings, the same node and relationship counts written by plain
   ``UNWIND … CREATE``: "raw" (no constraints, no lookups, 5,000 events a transaction)
   and "same-schema" (our constraints, endpoints matched by key, 500 a transaction);
3. cluster lookup latency p50/p99 by alias at 10k and 100k events (1M with ``--big``);
4. pairwise precision/recall/F1 of "same person" against the generator's ground truth,
   for our resolver (default policy, and ``policies/one-email.toml``), naive ID stitching
   and the truth-aware ideal (what is attainable);
5. the API process's peak memory and the Neo4j store size per million events;
6. destinations: ingest with two destinations vs none, delivery throughput and
   end-to-end latency (commit to the receiver's 2xx) p50/p99;

then profiles one batch ingest with pyinstrument. Results: a table on the terminal,
``benchmarks/results/latest.json`` and ``latest.png``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import http.client
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx2 as httpx
import neo4j
from rich.console import Console

from converge_graph.core.policy import DEVICE_TYPES

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ceiling import census, run_ceiling, run_raw_ceiling  # noqa: E402
from deliveries import phase_deliveries  # noqa: E402
from generate import Item, as_webhook, describe, generate_events  # noqa: E402
from harness import (  # noqa: E402
    BIN,
    ROOT,
    Api,
    Credentials,
    Target,
    neo4j_version,
    provision,
    store_size,
    wipe,
)
from quality import ideal_components, naive_components, pairwise  # noqa: E402
from report import print_table, write_json, write_plot  # noqa: E402

console = Console()
PHASES = ("batch", "one_email", "single", "ordered", "import", "ceiling", "lookup",
          "deliveries", "profile", "segment")
ORDERED_EVENTS = 2000  # one client, in arrival order: per-event latency, not throughput
ONE_EMAIL = ROOT / "benchmarks" / "policies" / "one-email.toml"
SEGMENT_BATCH = 100  # what segment-analytics-python sends at most per request


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def latency(values_s: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values_s]
    return {"p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2),
            "max_ms": round(max(ms), 2) if ms else float("nan"), "n": len(ms)}


# -- ingest ---------------------------------------------------------------------------
def ingest_batches(api: Api, creds: Credentials, payloads: list[dict], size: int
                   ) -> tuple[list[dict], float, list[float]]:
    """Sequential ``POST /v1/webhook/{token}/batch``; per-item results in order."""
    results: list[dict] = []
    waits: list[float] = []
    url = f"{api.base}/v1/webhook/{creds.hook}/batch"
    with httpx.Client(timeout=600) as client:
        started = time.perf_counter()
        for i in range(0, len(payloads), size):
            t0 = time.perf_counter()
            resp = client.post(url, json={"events": payloads[i:i + size]})
            waits.append(time.perf_counter() - t0)
            if resp.status_code != 200:
                results.extend({"error": {"status": resp.status_code, "body": resp.text[:300]}}
                               for _ in payloads[i:i + size])
            else:
                results.extend(resp.json()["results"])
        seconds = time.perf_counter() - started
    return results, seconds, waits


async def _ingest_single(api: Api, creds: Credentials, items: list[Item], concurrency: int
                         ) -> tuple[list[dict], float, list[float]]:
    """``concurrency`` clients, each posting one event and waiting for its answer. The
    clients are aiohttp, not httpx: on this 2-core box the load generator shares the cores
    with the API and Neo4j, and httpx's async client cost 1.2 ms of CPU per request against
    aiohttp's 0.2 ms (benchmarks/README.md), which the server's figures would have paid."""
    results: list[dict] = [{}] * len(items)
    waits: list[float] = []
    cursor = iter(range(len(items)))
    urls = {"web": f"{api.base}/v1/collect/{creds.web}",
            "webhook": f"{api.base}/v1/webhook/{creds.hook}"}
    bodies = [json.dumps(item.payload).encode() for item in items]
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=120),
            headers={"Content-Type": "application/json"}) as client:
        async def worker() -> None:
            for index in cursor:
                item = items[index]
                t0 = time.perf_counter()
                try:
                    async with client.post(urls[item.channel], data=bodies[index]) as resp:
                        raw = await resp.read()
                        body = json.loads(raw) if resp.status == 200 else {
                            "error": {"status": resp.status, "body": raw[:300].decode()}}
                except aiohttp.ClientError as exc:
                    body = {"error": {"status": None, "body": repr(exc)}}
                waits.append(time.perf_counter() - t0)
                results[index] = body

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - started
    return results, seconds, waits


def ingest_single(api: Api, creds: Credentials, items: list[Item], concurrency: int):
    return asyncio.run(_ingest_single(api, creds, items, concurrency))


def errors_of(results: list[dict]) -> dict[str, Any]:
    bad = [r["error"] for r in results if "error" in r]
    return {"count": len(bad), "first": bad[:3]}


def quality_of(driver, items: list[Item], results: list[dict]) -> dict[str, Any]:
    """Each ingested event's cluster now vs its person: where the event is now (session
    stitching may have moved it since its write was answered), else its write's profile."""
    rows, _, _ = driver.execute_query("MATCH (p:Profile) RETURN p.profile_id AS p, "
                                      "p.cluster_id AS c")
    cluster = {r["p"]: r["c"] for r in rows}
    rows, _, _ = driver.execute_query("MATCH (p:Profile)-[:PERFORMED]->(e:Event) "
                                      "RETURN e.event_id AS e, p.profile_id AS p")
    performer = {r["e"]: r["p"] for r in rows}
    placed = [(item, performer.get(result.get("event_id"), result.get("profile_id")))
              for item, result in zip(items, results, strict=True)]
    pairs = [(item, cluster[profile]) for item, profile in placed if profile in cluster]
    return with_knowable(pairs)


def with_knowable(pairs: list[tuple[Item, Any]]) -> dict[str, Any]:
    """Quality over all events, and over those some resolver could place (``knowable``)."""
    known = [(i, c) for i, c in pairs if not i.unknowable]
    return {**pairwise([i.person for i, _ in pairs], [c for _, c in pairs]),
            "knowable": pairwise([i.person for i, _ in known], [c for _, c in known])}


def graph_counts(driver) -> dict[str, int]:
    rows, _, _ = driver.execute_query(
        "CALL () { MATCH (e:Event) RETURN count(e) AS events } "
        "CALL () { MATCH (p:Profile) RETURN count(p) AS profiles, "
        "count(DISTINCT p.cluster_id) AS clusters } "
        "CALL () { MATCH ()-[r:SAME_AS]->() RETURN count(r) AS links } "
        "RETURN events, profiles, clusters, links")
    return dict(rows[0])


# -- phases ---------------------------------------------------------------------------
def phase_batch(ctx: dict, items: list[Item]) -> dict[str, Any]:
    payloads = [as_webhook(i) for i in items]
    results, seconds, waits = ingest_batches(ctx["api"], ctx["creds"], payloads, ctx["batch"])
    out = {"events": len(items), "seconds": round(seconds, 2),
           "events_per_s": round(len(items) / seconds, 1),
           "request_latency": latency(waits), "errors": errors_of(results),
           "graph": graph_counts(ctx["driver"]),
           "quality": quality_of(ctx["driver"], items, results)}
    ctx["census"] = census(ctx["driver"])
    out["census"] = ctx["census"].as_dict()
    return out


def phase_one_email(ctx: dict, items: list[Item]) -> dict[str, Any]:
    """The batch phase's quality under ``policies/one-email.toml``: a second API process
    started with ``CVG_POLICY_FILE``, on the emptied database."""
    api = Api(ctx["target"], Path(tempfile.mkdtemp(prefix="cvg-bench-")) / "api-one-email.log",
              env={"CVG_POLICY_FILE": str(ONE_EMAIL)})
    try:
        results, seconds, _ = ingest_batches(api, ctx["creds"], [as_webhook(i) for i in items],
                                             ctx["batch"])
    finally:
        api.stop()
    return {"events": len(items), "policy": str(ONE_EMAIL.relative_to(ROOT)),
            "seconds": round(seconds, 2), "events_per_s": round(len(items) / seconds, 1),
            "errors": errors_of(results), "quality": quality_of(ctx["driver"], items, results)}


def as_segment(item: Item) -> dict[str, Any] | None:
    """The item as a server library's Segment message: ``customer_id`` as userId, the
    cookie as anonymousId, email and phone in ``context.traits``; checkout and cart
    tokens have no Segment field. None when neither id is left (Segment needs one)."""
    body = as_webhook(item)
    ids: dict[str, str] = {}
    traits: dict[str, str] = {}
    for urn in body.get("aliases", []):
        kind, _, value = urn.removeprefix("urn:").partition(":")
        if kind == "customer_id":
            ids["userId"] = value
        elif kind == "cookie":
            ids["anonymousId"] = value
        elif kind in ("email", "phone"):
            traits[kind] = value
    if not ids:
        return None
    message: dict[str, Any] = {**ids, "timestamp": body["timestamp"],
                               "context": {"traits": traits}}
    if body.get("method") == "set":
        message.update(type="identify", traits=body.get("profile_properties", {}))
    else:
        message.update(type="track", event=body["event_name"],
                       properties=body.get("properties", {}))
    if body.get("event_id"):
        message["messageId"] = body["event_id"]
    return message


def phase_segment(ctx: dict, items: list[Item]) -> dict[str, Any]:
    """``POST /v1/batch`` with 100-message batches beside the native batch route with
    100-event batches of the same items, each on an empty graph."""
    kept = [(i, m) for i in items if (m := as_segment(i)) is not None]
    out: dict[str, Any] = {"events": len(kept), "not_expressible": len(items) - len(kept),
                           "batch": SEGMENT_BATCH}
    api, creds = ctx["api"], ctx["creds"]
    auth = (creds.hook, "")
    waits: list[float] = []
    rejected = failed = 0
    with httpx.Client(timeout=600, auth=auth) as client:
        started = time.perf_counter()
        for n in range(0, len(kept), SEGMENT_BATCH):
            batch = [m for _, m in kept[n:n + SEGMENT_BATCH]]
            t0 = time.perf_counter()
            resp = client.post(f"{api.base}/v1/batch", json={"batch": batch})
            waits.append(time.perf_counter() - t0)
            failed += resp.status_code != 200
            rejected += len(resp.json().get("rejected", [])) if resp.status_code == 200 else 0
        seconds = time.perf_counter() - started
    out["segment"] = {"seconds": round(seconds, 2),
                      "events_per_s": round(len(kept) / seconds, 1),
                      "request_latency": latency(waits), "failed_requests": failed,
                      "rejected_messages": rejected, "graph": graph_counts(ctx["driver"])}
    wipe(ctx["driver"])
    ctx["creds"] = provision(ctx["target"])
    results, seconds, waits = ingest_batches(api, ctx["creds"], [as_webhook(i) for i, _ in kept],
                                             SEGMENT_BATCH)
    out["native"] = {"seconds": round(seconds, 2),
                     "events_per_s": round(len(kept) / seconds, 1),
                     "request_latency": latency(waits), "errors": errors_of(results)}
    out["events_per_s"] = out["segment"]["events_per_s"]
    return out


def phase_single(ctx: dict, items: list[Item]) -> dict[str, Any]:
    api_cpu, own_cpu = ctx["api"].cpu_seconds(), time.process_time()
    results, seconds, waits = ingest_single(ctx["api"], ctx["creds"], items, ctx["concurrency"])
    per_event = {"api_ms": round((ctx["api"].cpu_seconds() - api_cpu) * 1000 / len(items), 3),
                 "load_generator_ms": round((time.process_time() - own_cpu) * 1000
                                            / len(items), 3)}
    return {"events": len(items), "concurrency": ctx["concurrency"],
            "seconds": round(seconds, 2), "events_per_s": round(len(items) / seconds, 1),
            "cpu_per_event": per_event,
            "request_latency": latency(waits), "errors": errors_of(results),
            "graph": graph_counts(ctx["driver"]),
            "quality": quality_of(ctx["driver"], items, results)}


def phase_ordered(ctx: dict, items: list[Item]) -> dict[str, Any]:
    """One client posting the stream's first events in arrival order, each after the last
    was answered: what one event costs alone (no group to share a transaction with)."""
    items = items[:ORDERED_EVENTS]
    results, seconds, waits = ingest_single(ctx["api"], ctx["creds"], items, 1)
    return {"events": len(items), "concurrency": 1, "seconds": round(seconds, 2),
            "events_per_s": round(len(items) / seconds, 1), "request_latency": latency(waits),
            "errors": errors_of(results), "commit_floor": commit_floor(ctx["driver"])}


def commit_floor(driver, n: int = 300) -> dict[str, float]:
    """The least one acknowledged write costs here: a transaction creating one node, over
    Bolt, committed (the transaction log forced to disk) — no API, no identity logic."""
    waits = []
    with driver.session() as session:
        for i in range(n + 50):
            t0 = time.perf_counter()
            session.execute_write(lambda tx: tx.run("CREATE (:BenchCommitProbe)").consume())
            if i >= 50:
                waits.append(time.perf_counter() - t0)
        session.run("MATCH (n:BenchCommitProbe) DELETE n").consume()
    return latency(waits)


def phase_import(ctx: dict, items: list[Item]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "events.jsonl.gz"
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(as_webhook(item)) + "\n")
        started = time.perf_counter()
        out = subprocess.run(
            [str(BIN / "converge-graph"), "import", str(path), "--source", "bench-backend",
             "--batch-size", str(ctx["batch"]), "--json"],
            env=ctx["target"].env, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - started
    if out.returncode != 0:
        raise RuntimeError(f"import failed:\n{out.stdout}\n{out.stderr[-2000:]}")
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    return {"events": len(items), "seconds": summary["seconds"],
            "events_per_s": summary["events_per_second"], "wall_seconds": round(wall, 2),
            "wall_events_per_s": round(len(items) / wall, 1), "summary": summary,
            "graph": graph_counts(ctx["driver"])}


def phase_ceiling(ctx: dict, events: int) -> dict[str, Any]:
    if "census" not in ctx:
        raise RuntimeError("the ceiling replays the batch phase's graph: run phase 'batch' too")
    same_schema = run_ceiling(ctx["driver"], ctx["census"], events, ctx["batch"])
    wipe(ctx["driver"])
    return {**same_schema, "census": ctx["census"].as_dict(),
            "raw": run_raw_ceiling(ctx["driver"], ctx["census"], events)}


def lookup_sample(payloads: list[dict], n: int, rng: random.Random) -> list[str]:
    """Aliases integrators look people up by: clean emails, customer ids, cookies."""
    pool: set[str] = set()
    for p in payloads:
        for urn in p.get("aliases", []):
            kind, _, value = urn[4:].partition(":")
            if kind in ("customer_id", "cookie", "checkout") or (
                    kind == "email" and value == value.strip().lower()
                    and not value.endswith(("example.com", "test.com", "gmail.com"))):
                pool.add(urn)
    ordered = sorted(pool)
    return [rng.choice(ordered) for _ in range(n)]


def time_lookups(ctx: dict, urns: list[str], warmup: int) -> dict[str, Any]:
    api, creds, driver = ctx["api"], ctx["creds"], ctx["driver"]
    # The statement the API runs for a lookup, as it runs it (an auto-commit query in a
    # read session): the API's own share is the difference between the two figures.
    query = (ROOT / "cypher" / "cluster_page.cypher").read_text()
    params = {"cluster_id": None, "device_types": list(DEVICE_TYPES),
              "profile_limit": 101, "after_created": None,
              "after_id": None, "link_limit": 101, "link_after_created": None,
              "link_after_from": None, "link_after_to": None, "with_properties": True}
    http_waits, bolt_waits, misses = [], [], 0
    # The standard library's client, one kept-alive connection: a client's own CPU per
    # request (httpx's is about a millisecond) would be counted as the server's latency.
    conn = http.client.HTTPConnection("127.0.0.1", api.port, timeout=30)
    headers = {"Authorization": f"Bearer {creds.read_key}"}
    try:
        for i, urn in enumerate(urns):
            t0 = time.perf_counter()
            conn.request("GET", "/v1/clusters/lookup?" + urllib.parse.urlencode({"alias": urn}),
                         headers=headers)
            resp = conn.getresponse()
            resp.read()
            if i >= warmup:
                http_waits.append(time.perf_counter() - t0)
            misses += resp.status != 200
    finally:
        conn.close()
    for i, urn in enumerate(urns):
        t0 = time.perf_counter()
        with driver.session(default_access_mode=neo4j.READ_ACCESS) as session:
            session.run(query, urn=urn, **params).single()
        if i >= warmup:
            bolt_waits.append(time.perf_counter() - t0)
    return {"http": latency(http_waits), "bolt": latency(bolt_waits), "not_found": misses}


def phase_lookup(ctx: dict, sizes: list[int], n_lookups: int) -> dict[str, Any]:
    items = generate_events(max(sizes), seed=ctx["seed"] + 1)
    payloads = [as_webhook(i) for i in items]
    rng = random.Random(ctx["seed"])
    out: dict[str, Any] = {"stream": describe(items), "at": []}
    done = 0
    for size in sorted(sizes):
        chunk = payloads[done:size]
        results, seconds, _ = ingest_batches(ctx["api"], ctx["creds"], chunk, ctx["batch"])
        done = min(size, len(payloads))
        urns = lookup_sample(payloads[:done], n_lookups + 200, rng)
        time.sleep(3)  # let the server settle after the ingest burst: steady-state lookups
        row = {"events": done, "ingest_events_per_s": round(len(chunk) / seconds, 1),
               "ingest_errors": errors_of(results)["count"], **time_lookups(ctx, urns, 200),
               "graph": graph_counts(ctx["driver"]), "api_memory": ctx["api"].memory()}
        console.log(f"lookups at {done} events: http p50 {row['http']['p50_ms']} ms, "
                    f"p99 {row['http']['p99_ms']} ms")
        out["at"].append(row)
    size = store_size(ctx["data_dir"])
    if size["bytes"]:
        size["bytes_per_million_events"] = round(size["bytes"] / done * 1_000_000)
    out["store"] = {**size, "events": done}
    return out


def phase_profile(ctx: dict) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("profile_batch.py")),
         "--seed", str(ctx["seed"] + 2), "--size", str(ctx["batch"]),
         "--out", str(ctx["out"])],
        env=ctx["target"].env, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": out.stderr[-2000:]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def warm_up(ctx: dict) -> None:
    """JIT, query caches and connection pools of the API and Neo4j, then wipe again."""
    ctx["creds"] = provision(ctx["target"])
    items = generate_events(3000, seed=ctx["seed"] + 3, first_person=50_000_000)
    ingest_batches(ctx["api"], ctx["creds"], [as_webhook(i) for i in items[:2000]], ctx["batch"])
    ingest_single(ctx["api"], ctx["creds"], items[2000:], ctx["concurrency"])
    time_lookups(ctx, lookup_sample([as_webhook(i) for i in items], 300, random.Random(0)), 300)
    wipe(ctx["driver"])


# -- main -----------------------------------------------------------------------------
def confirm_wipe(args: argparse.Namespace, uri: str) -> None:
    if args.yes or os.environ.get("BENCH_WIPE") == "1":
        return
    warning = f"The benchmark DELETES every node and relationship in the Neo4j at {uri}."
    if sys.stdin.isatty():
        answer = input(f"{warning}\nType 'yes' to continue: ")
        if answer.strip().lower() == "yes":
            return
    console.print(f"[red]{warning}[/red]\nConfirm with --yes or BENCH_WIPE=1 "
                  "(e.g. `make bench BENCH_WIPE=1`).")
    raise SystemExit(2)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=20_000, help="stream size for ingest figures")
    ap.add_argument("--lookup-at", default="10000,100000",
                    help="graph sizes (events) at which lookups are timed, comma-separated")
    ap.add_argument("--big", action="store_true", help="also time lookups at 1,000,000 events")
    ap.add_argument("--lookups", type=int, default=1000, help="lookups timed per size")
    ap.add_argument("--batch-size", type=int, default=500)
    ap.add_argument("--delivery-events", type=int, default=5000,
                    help="events ingested for the deliveries phase (two destinations each)")
    ap.add_argument("--concurrency", type=int, default=32, help="single-event HTTP clients")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--phases", default=",".join(PHASES),
                    help=f"comma-separated subset of {','.join(PHASES)}")
    ap.add_argument("--neo4j-uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"))
    ap.add_argument("--neo4j-user", default=os.environ.get("NEO4J_USER", "neo4j"))
    ap.add_argument("--neo4j-password", default=os.environ.get("NEO4J_PASSWORD", ""))
    ap.add_argument("--neo4j-data-dir", type=Path, default=None,
                    help="the server's data folder, to measure the store size (du)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results")
    ap.add_argument("--yes", action="store_true", help="confirm wiping the database")
    return ap.parse_args()


def main() -> None:
    args = parse_args()
    phases = [p for p in args.phases.split(",") if p]
    unknown = set(phases) - set(PHASES)
    if unknown:
        raise SystemExit(f"unknown phases {sorted(unknown)}; choose from {PHASES}")
    confirm_wipe(args, args.neo4j_uri)
    args.out.mkdir(parents=True, exist_ok=True)
    target = Target(args.neo4j_uri, args.neo4j_user, args.neo4j_password)
    driver = target.driver()
    sizes = [int(s) for s in args.lookup_at.split(",") if s] + ([1_000_000] if args.big else [])
    stream = generate_events(args.events, seed=args.seed)
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform(), "neo4j": neo4j_version(driver),
                    # other processes' load skews every figure: kept to judge a run by
                    "loadavg_at_start": os.getloadavg()},
        "git": _git_revision(), "stream": describe(stream), "phases": {},
    }
    naive = {"naive_exact": with_knowable(list(zip(stream, naive_components(stream),
                                                   strict=True))),
             "naive_normalised": with_knowable(list(zip(
                 stream, naive_components(stream, normalise=True), strict=True))),
             "ideal": with_knowable(list(zip(stream, ideal_components(stream), strict=True)))}
    report["quality_baselines"] = naive
    wipe(driver)
    api_log = Path(tempfile.mkdtemp(prefix="cvg-bench-")) / "api.log"  # read it on failure
    api = Api(target, api_log)
    ctx: dict[str, Any] = {"api": api, "driver": driver, "target": target, "seed": args.seed,
                           "batch": args.batch_size, "concurrency": args.concurrency,
                           "data_dir": args.neo4j_data_dir, "out": args.out}
    try:
        console.rule("warm-up (not measured)")
        warm_up(ctx)
        for phase in phases:
            console.rule(f"phase {phase}")
            if phase != "profile":  # profile adds one batch to the graph the others left
                wipe(driver)
                if phase != "ceiling":
                    ctx["creds"] = provision(target)
            started = time.perf_counter()
            if phase == "batch":
                result = phase_batch(ctx, stream)
            elif phase == "one_email":
                result = phase_one_email(ctx, stream)
            elif phase == "single":
                result = phase_single(ctx, stream)
            elif phase == "ordered":
                result = phase_ordered(ctx, stream)
            elif phase == "import":
                result = phase_import(ctx, stream)
            elif phase == "ceiling":
                result = phase_ceiling(ctx, len(stream))
            elif phase == "segment":
                result = phase_segment(ctx, stream)
            elif phase == "lookup":
                result = phase_lookup(ctx, sizes, args.lookups)
            elif phase == "deliveries":
                result = phase_deliveries(
                    ctx, [as_webhook(i) for i in stream[:args.delivery_events]],
                    ingest_batches, provision, wipe, latency)
            else:
                result = phase_profile(ctx)
            result["phase_seconds"] = round(time.perf_counter() - started, 1)
            result["api_memory_after"] = api.memory()
            report["phases"][phase] = result
            console.log(f"{phase}: {_brief(result)}")
    finally:
        report["api_memory"] = api.memory()
        api.stop()
        driver.close()
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["machine"]["loadavg_at_end"] = os.getloadavg()
    write_json(report, args.out / "latest.json")
    write_plot(report, args.out / "latest.png")
    print_table(report, console)
    console.print(f"written: {args.out / 'latest.json'}, {args.out / 'latest.png'}")


def _brief(result: dict[str, Any]) -> str:
    keys = ("events_per_s", "seconds", "errors", "hot_spots")
    return json.dumps({k: result[k] for k in keys if k in result}, default=str)[:300]


def _git_revision() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                         text=True)
    dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "cypher"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + ("+uncommitted" if dirty else "")


if __name__ == "__main__":
    main()
