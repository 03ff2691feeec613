"""Delivery workers (docs/destinations.md#delivery): claim due items under a lease, send
each signed, record the outcome. At least once: an item is marked delivered only after
the receiver's 2xx, so a crash between the two sends it again under the same webhook-id.

Several workers — threads of one process, or ``serve`` and ``converge-graph deliver``
side by side — never send one item at the same moment: a claim leases items in one
transaction (claim_deliveries.cypher) for twice the HTTP timeout or more, and a claim's
items are sent in parallel at once, so every send ends before its lease does.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import httpx2 as httpx

from converge_graph.core import payloads
from converge_graph.core import properties as props_mod
from converge_graph.core.batch import Delta
from converge_graph.core.ids import new_id
from converge_graph.core.webhooks import (
    RetryPolicy,
    classify,
    next_attempt,
    parse_retry_after,
    signed_headers,
)
from converge_graph.errors import DatabaseUnavailable
from converge_graph.service.sources import utcnow

if TYPE_CHECKING:
    from converge_graph.service import Service

log = logging.getLogger("converge_graph.delivery")
BODY_KEPT = 2000  # characters of a receiver's answer stored on the delivery


class Deliverer:
    def __init__(self, service: Service, workers: int | None = None) -> None:
        s = service.settings
        self.service = service
        self.graph = service.graph
        self.workers = s.delivery_workers if workers is None else workers
        self.poll = s.delivery_poll_seconds
        self.timeout = s.delivery_timeout_seconds
        # A claim's sends run in parallel, each within one timeout, so a lease of twice
        # the timeout covers them; a crashed worker's items wait at most one lease.
        self.lease = timedelta(seconds=max(s.delivery_lease_seconds, 2 * self.timeout))
        self.batch = s.delivery_batch
        self.retry = RetryPolicy(s.retry_first_seconds, s.retry_max_seconds,
                                 s.retry_window_seconds)
        self.region = s.default_region
        self.pool = ThreadPoolExecutor(max(self.workers, 1) * self.batch,
                                       thread_name_prefix="cvg-send")
        self.client = httpx.Client(
            timeout=self.timeout, follow_redirects=False,
            limits=httpx.Limits(max_connections=max(self.workers, 1) * self.batch))
        # Called with each attempt's outcome (metrics); must not raise.
        self.observers: list[Callable[[dict[str, Any]], None]] = []
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        service.observers.append(self._on_ingest)

    # -- running ----------------------------------------------------------------------
    def start(self) -> None:
        for n in range(self.workers):
            t = threading.Thread(target=self._loop, name=f"cvg-delivery-{n}", daemon=True)
            t.start()
            self.threads.append(t)

    def stop(self, timeout: float = 15.0) -> None:
        self.stopping.set()
        self.wake.set()
        for t in self.threads:
            t.join(timeout)
        self.pool.shutdown(wait=True)
        self.client.close()
        if self._on_ingest in self.service.observers:
            self.service.observers.remove(self._on_ingest)

    def _on_ingest(self, _results: list[dict[str, Any]], delta: Delta) -> None:
        """The write recorded deliveries: look now, not at the next poll. (Waking on every
        write, with no destination to send to, cost a claim transaction per commit.)"""
        if delta.deliveries:
            self.wake.set()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                sent = self.run_once()
            except DatabaseUnavailable as exc:  # an outage: say so every few seconds
                log.warning("delivery worker: %s", exc.message)
                self.stopping.wait(max(self.poll, 5.0))
                continue
            except Exception:  # a worker must outlive any one bad item
                log.exception("delivery worker failed; going on")
                sent = 0
            if not sent:
                self.wake.wait(self.poll)
                self.wake.clear()

    def run_once(self) -> int:
        """Claim a batch of due items, attempt them, record the outcomes in one
        transaction; returns how many were due (0: nothing to do, wait)."""
        lease = new_id("lease")
        now = utcnow()
        lease_until = now + self.lease
        due, claimed = self.graph.claim_deliveries(now, self.batch, lease, lease_until)
        # Oldest first: a merge goes out before its split. Events go out in parallel;
        # identity changes one after another, in order.
        claimed.sort(key=lambda i: (i["delivery"]["created_at"], i["delivery"]["delivery_id"]))
        events = [i for i in claimed if i["delivery"]["topic"] == "event"]
        changes = [i for i in claimed if i["delivery"]["topic"] != "event"]
        outcomes = list(self.pool.map(self.attempt, events))
        for item in changes:
            if utcnow() + timedelta(seconds=self.timeout + 1) >= lease_until:
                break  # the rest are claimed again once this lease runs out
            outcomes.append(self.attempt(item))
        finished = utcnow()
        kept = self.graph.finish_deliveries(lease, finished, [o["row"] for o in outcomes])
        for o in outcomes:
            self._report(o, finished, o["row"]["delivery_id"] in kept)
        return due

    def drain(self, timeout: float = 30.0) -> None:
        """Attempt everything due until nothing is (tests, `deliver --once`)."""
        deadline = time.monotonic() + timeout
        while self.run_once() and time.monotonic() < deadline:
            pass

    # -- one attempt ------------------------------------------------------------------
    def attempt(self, item: dict[str, Any]) -> dict[str, Any]:
        """Build, sign and send one item; its outcome, to record with the batch's."""
        d, dst, event = item["delivery"], item["destination"], item["event"]
        states = [(props_mod.loads(s["properties_json"]), props_mod.loads(s["property_ts_json"]))
                  for s in item["states"]]
        profile = props_mod.merged_view(states)
        if d["topic"] == "event":
            if event is None:
                return self._outcome(d, dst, "skipped", "the event was erased")
            data = payloads.event_data({**event, "properties": props_mod.loads(
                event["properties_json"])}, profile, item["aliases"])
        else:
            if d["data_json"] is None:
                return self._outcome(d, dst, "skipped", "redacted by erasure")
            data = json.loads(d["data_json"])
        refusal = None if d["topic"] == "identity.erased" else payloads.consent_refusal(
            dst["purpose"], [props for props, _ in states])
        if refusal:
            return self._outcome(d, dst, "skipped", refusal)
        now = utcnow()
        if dst["format"] == "meta-capi":
            body = payloads.meta_body(data, event["timestamp"], self.region)
        else:
            body = payloads.webhook_body(d["topic"], data, now)
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":"),
                         default=str).encode()
        headers = signed_headers(dst["secret"], d["delivery_id"], now, raw)
        started = time.perf_counter()
        code, error, answer, retry_after = None, None, None, None
        try:
            resp = self.client.post(dst["url"], content=raw, headers=headers)
            code, answer = resp.status_code, resp.text[:BODY_KEPT]
            retry_after = parse_retry_after(resp.headers.get("retry-after"), utcnow())
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"[:BODY_KEPT]
        duration = time.perf_counter() - started
        outcome = classify(code, error, retry_after)
        status, reason, when = outcome.status, outcome.reason, None
        attempts = d["attempts"] + 1
        if status == "failed":
            when = next_attempt(self.retry, attempts, d["window_from"], utcnow(),
                                outcome.retry_after)
            if when is None:
                status = "dead"
                reason += f"; gave up after {attempts} attempts (retry window over)"
        return self._outcome(d, dst, status, reason, attempted=True, next_at=when, code=code,
                             answer=answer if status != "delivered" else None,
                             duration=duration)

    @staticmethod
    def _outcome(d: dict, dst: dict, status: str, reason: str, *, attempted: bool = False,
                 next_at: datetime | None = None, code: int | None = None,
                 answer: str | None = None, duration: float | None = None) -> dict[str, Any]:
        return {"row": {"delivery_id": d["delivery_id"], "status": status,
                        "attempted": attempted, "next_attempt_at": next_at, "reason": reason,
                        "response_status": code, "response_body": answer},
                "delivery": d, "destination": dst["name"], "duration": duration}

    def _report(self, o: dict[str, Any], now: datetime, kept: bool) -> None:
        """One JSON log line per attempt, and the observers (metrics)."""
        row, d = o["row"], o["delivery"]
        line = {"delivery_id": d["delivery_id"], "destination": o["destination"],
                "topic": d["topic"], "event_id": d.get("event_id"), "status": row["status"],
                "attempt": d["attempts"] + (1 if row["attempted"] else 0),
                "http_status": row["response_status"], "reason": row["reason"],
                "lease_kept": kept,
                "duration_ms": round(o["duration"] * 1000, 2) if o["duration"] else None,
                "next_attempt_at": row["next_attempt_at"].isoformat()
                if row["next_attempt_at"] else None}
        log.info("delivery attempt", extra=line)
        seen = {**line, "latency": (now - d["created_at"]).total_seconds()
                if row["status"] == "delivered" else None}
        for observe in self.observers:
            try:
                observe(seen)
            except Exception:
                log.exception("delivery observer %r failed", observe)
