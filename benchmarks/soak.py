"""Soak: a steady, bounded rate of webhook events for a fixed time, watching the API's memory.

    make soak                                        # 10 minutes at 100 events/s
    make soak SOAK_MINUTES=1
    python benchmarks/soak.py --minutes 1            # API started here, on NEO4J_URI
    python benchmarks/soak.py --url http://127.0.0.1:8000 --token cvg_hook_… --api-pid 1234

Requests leave on a fixed schedule (open loop: a slow answer does not slow the sender),
over loopback only, at most ``--max-in-flight`` at once (a request due while that many
are out is skipped and counted). A warm-up at half the rate comes first and is not
measured (a fresh Neo4j's JIT and caches). Each event has its own
event_id; 5 % resend an earlier one (deduplication on the hot path); aliases come from
a pool so that some writes merge. Reported: throughput, latency percentiles (from the
moment a request was due, so queueing in the client counts), errors, and the API's
resident memory sampled from /proc every few seconds.

Fails (exit 1) when memory grows without bound — mean RSS of the last quarter more than
``--rss-growth`` (1.5) times that of the second quarter; the first quarter is warm-up —
or when more than ``--max-error-rate`` (1 %) of the requests failed or were skipped: a
rate the machine cannot hold is reported as a failure, not averaged away.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean
from typing import Any

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def percentile(ordered: list[float], q: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


class OwnApi:
    """`converge-graph serve` on a free loopback port, with a webhook source of its own."""

    def __init__(self, log: Path) -> None:
        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [str(BIN / "converge-graph"), "serve", "--port", str(self.port)],
            env={**os.environ, "API_HOST": "127.0.0.1"}, cwd=ROOT, stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the API exited with {self.proc.returncode}; see {log}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        else:
            self.stop()
            raise SystemExit(f"the API was not ready within 60 s; see {log}")
        out = subprocess.run([str(BIN / "converge-graph"), "sources", "add", "soak",
                              "--kind", "webhook", "--json"], cwd=ROOT, capture_output=True,
                             text=True, check=True)
        self.token = json.loads(out.stdout.strip().splitlines()[-1])["token"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class Soak:
    def __init__(self, args: argparse.Namespace, url: str, token: str, pid: int | None) -> None:
        self.args = args
        self.url = url
        self.token = token
        self.pid = pid
        self.run = f"soak-{int(time.time())}"
        self.rng = random.Random(args.seed)
        self.latencies: list[float] = []
        self.statuses: dict[str, int] = {}
        self.errors = 0
        self.skipped = 0  # due while --max-in-flight requests were already out
        self.rss: list[tuple[float, float]] = []
        self.sent_ids: list[str] = []

    def body(self, n: int) -> dict[str, Any]:
        if self.sent_ids and self.rng.random() < 0.05:
            event_id = self.rng.choice(self.sent_ids)  # a retry or a second reporter
        else:
            event_id = f"{self.run}-{n}"
            self.sent_ids.append(event_id)
        # Most people are seen a few times; a fifth of the traffic comes from 200 regulars.
        people = 200 if self.rng.random() < 0.2 else 20_000
        person = self.rng.randrange(people)
        aliases = [f"urn:customer_id:{person}"]
        if self.rng.random() < 0.5:
            aliases.append(f"urn:email:person{person}@soak.test")
        if self.rng.random() < 0.1:
            aliases.append(f"urn:phone:+1415555{person % 10_000:04d}")
        return {"event_name": self.rng.choice(["Viewed Product", "Added to Cart",
                                               "Placed Order"]),
                "event_id": event_id, "aliases": aliases,
                "properties": {"sku": f"SKU-{self.rng.randrange(500)}",
                               "price": round(self.rng.uniform(1, 300), 2)},
                "profile_properties": {"$last_seen_sku": f"SKU-{self.rng.randrange(500)}"}}

    async def one(self, client: httpx.AsyncClient, due: float, body: dict,
                  gate: asyncio.Semaphore, counted: bool) -> None:
        try:
            resp = await client.post(f"/v1/webhook/{self.token}", json=body)
            key = str(resp.status_code)
            failed = not 200 <= resp.status_code < 300
        except httpx.TransportError as exc:
            key, failed = type(exc).__name__, True
        finally:
            gate.release()
        if counted:
            self.errors += failed
            self.statuses[key] = self.statuses.get(key, 0) + 1
            self.latencies.append(time.monotonic() - due)

    async def sample_rss(self, t0: float, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.pid is not None and (mib := rss_mib(self.pid)) is not None:
                self.rss.append((round(time.monotonic() - t0, 1), round(mib, 1)))
            try:
                await asyncio.wait_for(stop.wait(), self.args.sample_seconds)
            except TimeoutError:
                pass

    async def phase(self, client: httpx.AsyncClient, gate: asyncio.Semaphore, seconds: float,
                    rate: float, counted: bool, first: int) -> int:
        """``rate`` requests per second on a fixed schedule for ``seconds``."""
        tasks: set[asyncio.Task] = set()
        t0 = time.monotonic()
        next_report = t0 + self.args.report_seconds
        total = int(rate * seconds)
        for n in range(total):
            due = t0 + n / rate
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            if gate.locked():
                self.skipped += counted  # the API is this far behind: count it, do not pile up
                continue
            await gate.acquire()
            task = asyncio.create_task(self.one(client, due, self.body(first + n), gate,
                                                counted))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            if counted and time.monotonic() >= next_report:
                next_report += self.args.report_seconds
                self.progress(t0)
        if tasks:
            await asyncio.wait(tasks, timeout=60)
        return total

    async def drive(self) -> dict[str, Any]:
        a = self.args
        gate = asyncio.Semaphore(a.max_in_flight)
        # Idle connections are dropped before uvicorn's 5 s keep-alive timeout closes them,
        # so that no request is sent on a connection the server is closing.
        limits = httpx.Limits(max_connections=a.max_in_flight,
                              max_keepalive_connections=a.max_in_flight, keepalive_expiry=3.0)
        async with httpx.AsyncClient(base_url=self.url, limits=limits,
                                     timeout=httpx.Timeout(30.0, connect=5.0)) as client:
            stop = asyncio.Event()
            sampler = asyncio.create_task(self.sample_rss(time.monotonic(), stop))
            warmed = 0
            if a.warmup_seconds > 0:  # JIT, page cache, query plans: not what is measured
                print(f"  warm-up: {a.warmup_seconds:g} s at {a.rate / 2:g}/s", flush=True)
                warmed = await self.phase(client, gate, a.warmup_seconds, a.rate / 2,
                                          counted=False, first=0)
                self.rss.clear()
            t0 = time.monotonic()
            total = await self.phase(client, gate, a.minutes * 60, a.rate, counted=True,
                                     first=warmed)
            elapsed = time.monotonic() - t0
            stop.set()
            await sampler
        return self.summary(total, elapsed)

    def progress(self, t0: float) -> None:
        done = len(self.latencies)
        recent = sorted(self.latencies[-2000:])
        rss = f"{self.rss[-1][1]:.0f} MiB" if self.rss else "n/a"
        print(f"  t={time.monotonic() - t0:6.0f}s  done={done:7d}  errors={self.errors}  "
              f"skipped={self.skipped}  p50={percentile(recent, 50) * 1000:6.1f}ms  "
              f"p99={percentile(recent, 99) * 1000:7.1f}ms  rss={rss}", flush=True)

    def summary(self, total: int, elapsed: float) -> dict[str, Any]:
        ordered = sorted(self.latencies)
        done = len(ordered)
        ok = sum(n for k, n in self.statuses.items() if k.isdigit() and 200 <= int(k) < 300)
        rss_values = [v for _, v in self.rss]
        quarter = len(rss_values) // 4
        q2 = mean(rss_values[quarter:2 * quarter]) if quarter else None
        q4 = mean(rss_values[3 * quarter:]) if quarter else None
        growth = round(q4 / q2, 3) if q2 and q4 else None
        failures = []
        if growth is not None and growth > self.args.rss_growth:
            failures.append(f"RSS grew {growth}x from the second to the last quarter "
                            f"(limit {self.args.rss_growth}x)")
        attempted = done + self.skipped
        error_rate = (self.errors + self.skipped) / attempted if attempted else 1.0
        if error_rate > self.args.max_error_rate:
            failures.append(f"{error_rate:.2%} of requests failed or were skipped "
                            f"(limit {self.args.max_error_rate:.2%})")
        if growth is None:
            failures.append("too few RSS samples to judge memory (no --api-pid, or too short)")
        return {
            "target_rate": self.args.rate, "minutes": self.args.minutes, "scheduled": total,
            "completed": done, "ok": ok, "errors": self.errors, "skipped": self.skipped,
            "statuses": self.statuses, "elapsed_s": round(elapsed, 1),
            "throughput_per_s": round(ok / elapsed, 1) if elapsed else 0.0,
            "latency_ms": {f"p{q}": round(percentile(ordered, q) * 1000, 1)
                           for q in (50, 90, 99, 99.9)} | {
                "max": round(ordered[-1] * 1000, 1) if ordered else None},
            "rss_mib": {"first": rss_values[0] if rss_values else None,
                        "max": max(rss_values, default=None),
                        "last": rss_values[-1] if rss_values else None,
                        "second_quarter_mean": round(q2, 1) if q2 else None,
                        "last_quarter_mean": round(q4, 1) if q4 else None,
                        "growth": growth, "samples": self.rss},
            "failures": failures,
        }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--rate", type=float, default=100.0, help="events per second")
    p.add_argument("--warmup-seconds", type=float, default=30.0,
                   help="at half the rate first, not measured")
    p.add_argument("--url", help="a running API (default: start one on NEO4J_URI)")
    p.add_argument("--token", help="a webhook datasource token (with --url)")
    p.add_argument("--api-pid", type=int, help="the API's pid, for its memory (with --url)")
    p.add_argument("--max-in-flight", type=int, default=256)
    p.add_argument("--sample-seconds", type=float, default=5.0)
    p.add_argument("--report-seconds", type=float, default=30.0)
    p.add_argument("--rss-growth", type=float, default=1.5)
    p.add_argument("--max-error-rate", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "soak.json")
    args = p.parse_args(argv)

    own = None
    if args.url:
        if not args.token:
            p.error("--url needs --token (a webhook datasource token)")
        url, token, pid = args.url.rstrip("/"), args.token, args.api_pid
        if not url.startswith(("http://127.0.0.1", "http://localhost", "http://[::1]")):
            p.error("the soak only drives an API over loopback")
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        own = OwnApi(Path(tempfile.gettempdir()) / "converge-soak-api.log")
        url, token, pid = own.url, own.token, own.proc.pid
    print(f"soak: {args.rate:g} events/s for {args.minutes:g} min against {url}"
          f"{f' (API pid {pid})' if pid else ''}", flush=True)
    try:
        result = asyncio.run(Soak(args, url, token, pid).drive())
    finally:
        if own is not None:
            own.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    lat, rss = result["latency_ms"], result["rss_mib"]
    print(f"throughput {result['throughput_per_s']}/s of {args.rate:g}/s target; "
          f"{result['ok']} ok, {result['errors']} errors, {result['skipped']} skipped")
    print(f"latency ms  p50 {lat['p50']}  p90 {lat['p90']}  p99 {lat['p99']}  "
          f"p99.9 {lat['p99.9']}  max {lat['max']}")
    print(f"API RSS MiB first {rss['first']}  max {rss['max']}  last {rss['last']}  "
          f"(last quarter / second quarter = {rss['growth']})")
    print(f"details: {args.out}")
    for failure in result["failures"]:
        print(f"FAIL: {failure}")
    return 1 if result["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
