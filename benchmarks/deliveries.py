"""Destinations under load (docs/destinations.md): the ingest rate with no destination and
with two, the delivery throughput of the API's own workers, and the end-to-end latency
from an event's commit to the receiver's 2xx (``delivered_at - created_at`` of each
``:Delivery``), p50/p99. The receiver is a local threading HTTP server answering 200."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness import cli


class Sink:
    """Counts POSTs; answers 200 at once."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                self.rfile.read(int(self.headers.get("content-length", 0)))
                with sink.lock:
                    sink.count += 1
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def delivered(driver) -> int:
    rows, _, _ = driver.execute_query(
        "MATCH (x:Delivery {status: 'delivered'}) RETURN count(x) AS n")
    return rows[0]["n"]


def latencies(driver) -> list[float]:
    rows, _, _ = driver.execute_query(
        "MATCH (x:Delivery {status: 'delivered'}) "
        "RETURN duration.inSeconds(x.created_at, x.delivered_at).seconds * 1.0 + "
        "duration.inSeconds(x.created_at, x.delivered_at).nanosecondsOfSecond / 1e9 AS s")
    return [r["s"] for r in rows]


def phase_deliveries(ctx: dict, payloads: list[dict], ingest: Callable, provision: Callable,
                     wipe: Callable, latency: Callable) -> dict[str, Any]:
    """Ingest ``payloads`` twice (no destination; two) and wait for every delivery."""
    api, driver, target = ctx["api"], ctx["driver"], ctx["target"]
    out: dict[str, Any] = {"events": len(payloads)}
    _, seconds, _ = ingest(api, ctx["creds"], payloads, ctx["batch"])
    out["ingest_events_per_s_no_destination"] = round(len(payloads) / seconds, 1)

    wipe(driver)
    ctx["creds"] = provision(target)
    sinks = [Sink(), Sink()]
    try:
        for n, sink in enumerate(sinks):
            cli(target, "destinations", "add", f"bench-{n}", "--url", sink.url)
        started = time.perf_counter()
        _, seconds, _ = ingest(api, ctx["creds"], payloads, ctx["batch"])
        out["ingest_events_per_s_two_destinations"] = round(len(payloads) / seconds, 1)
        # A repeated event_id and a `set` record nothing: count what the outbox holds.
        rows, _, _ = driver.execute_query("MATCH (x:Delivery) RETURN count(x) AS n")
        want = rows[0]["n"]
        deadline = time.monotonic() + 600
        while delivered(driver) < want and time.monotonic() < deadline:
            time.sleep(0.5)
        took = time.perf_counter() - started
        out.update({
            "deliveries": want, "delivered": delivered(driver),
            "received": sum(s.count for s in sinks),
            "deliveries_per_s": round(want / took, 1),
            "end_to_end_latency": latency(latencies(driver)),
        })
    finally:
        for sink in sinks:
            sink.stop()
    return out
