"""Delivery workers (docs/destinations.md#delivery): claim due items under a lease, send
each signed, record the outcome. At least once: an item is marked delivered only after
the receiver's 2xx, so a crash between the two sends it again under the same webhook-id.

Several workers — threads of one process, or ``serve`` and ``converge-graph deliver``
side by side — never send one item at the same moment: a claim leases items in one
transaction (claim_deliveries.cypher), and a worker sends an item only while at least
one HTTP timeout of its lease is left.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
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
        # A lease covers a batch of sends, each up to one timeout, so the batch is sized
        # to the lease; a crashed worker's items wait at most one lease.
        self.lease = timedelta(seconds=max(s.delivery_lease_seconds, 2 * self.timeout))
        self.batch = max(1, int(self.lease.total_seconds() // self.timeout) - 1)
        self.retry = RetryPolicy(s.retry_first_seconds, s.retry_max_seconds,
                                 s.retry_window_seconds)
        self.region = s.default_region
        self.client = httpx.Client(timeout=self.timeout, follow_redirects=False)
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
        self.client.close()
        if self._on_ingest in self.service.observers:
            self.service.observers.remove(self._on_ingest)

    def _on_ingest(self, results: list[dict[str, Any]], delta: Delta) -> None:
        """New events or merges may have recorded deliveries: look now, not at the next poll."""
        if delta.relabels or any(not r["deduplicated"] and r["event_id"] for r in results):
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
        """Claim a batch of due items and attempt each; returns how many were claimed."""
        lease = new_id("lease")
        now = utcnow()
        lease_until = now + self.lease
        claimed = self.graph.claim_deliveries(now, self.batch, lease, lease_until)
        # Oldest first (claims lock in id order): a merge goes out before its split.
        claimed.sort(key=lambda i: (i["delivery"]["created_at"], i["delivery"]["delivery_id"]))
        for item in claimed:
            if utcnow() + timedelta(seconds=self.timeout + 1) >= lease_until:
                break  # the rest are claimed again once this lease runs out
            self.attempt(item, lease)
        return len(claimed)

    def drain(self, timeout: float = 30.0) -> None:
        """Attempt everything due until nothing is (tests, `deliver --once`)."""
        deadline = time.monotonic() + timeout
        while self.run_once() and time.monotonic() < deadline:
            pass

    # -- one attempt ------------------------------------------------------------------
    def attempt(self, item: dict[str, Any], lease: str) -> str:
        d, dst, event = item["delivery"], item["destination"], item["event"]
        states = [(props_mod.loads(s["properties_json"]), props_mod.loads(s["property_ts_json"]))
                  for s in item["states"]]
        profile = props_mod.merged_view(states)
        now = utcnow()
        if d["topic"] == "event":
            if event is None:
                return self._finish(d, dst, lease, "skipped", "the event was erased", now)
            data = payloads.event_data({**event, "properties": props_mod.loads(
                event["properties_json"])}, profile, item["aliases"])
        else:
            if d["data_json"] is None:
                return self._finish(d, dst, lease, "skipped", "redacted by erasure", now)
            data = json.loads(d["data_json"])
        refusal = None if d["topic"] == "identity.erased" else payloads.consent_refusal(
            dst["purpose"], [props for props, _ in states])
        if refusal:
            return self._finish(d, dst, lease, "skipped", refusal, now)
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
        finished = utcnow()
        if status == "failed":
            when = next_attempt(self.retry, attempts, d["window_from"], finished,
                                outcome.retry_after)
            if when is None:
                status = "dead"
                reason += f"; gave up after {attempts} attempts (retry window over)"
        return self._finish(d, dst, lease, status, reason, finished, attempted=True,
                            next_at=when, code=code,
                            answer=answer if status != "delivered" else None,
                            duration=duration)

    def _finish(self, d: dict, dst: dict, lease: str, status: str, reason: str,
                now: datetime, *, attempted: bool = False, next_at: datetime | None = None,
                code: int | None = None, answer: str | None = None,
                duration: float | None = None) -> str:
        kept = self.graph.finish_delivery(
            delivery_id=d["delivery_id"], lease=lease, status=status, attempted=attempted,
            next_attempt_at=next_at, now=now, reason=reason, response_status=code,
            response_body=answer)
        line = {"delivery_id": d["delivery_id"], "destination": dst["name"],
                "topic": d["topic"], "event_id": d.get("event_id"), "status": status,
                "attempt": d["attempts"] + (1 if attempted else 0), "http_status": code,
                "reason": reason, "lease_kept": kept,
                "duration_ms": round(duration * 1000, 2) if duration is not None else None,
                "next_attempt_at": next_at.isoformat() if next_at else None}
        log.info("delivery attempt", extra=line)
        seen = {**line, "retry": status == "failed",
                "latency": (now - d["created_at"]).total_seconds()
                if status == "delivered" else None}
        for observe in self.observers:
            try:
                observe(seen)
            except Exception:
                log.exception("delivery observer %r failed", observe)
        return status
