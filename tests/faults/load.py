"""Clients that post webhook events the way a careful integrator does: every event has its
own event_id, and a 503 or a broken connection is retried with the same event_id (with
backoff, bounded in attempts and time) until the API acknowledges it with a 2xx."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx2 as httpx

RETRYABLE = {502, 503, 504}


@dataclass
class Tally:
    sent: set[str] = field(default_factory=set)
    acked: dict[str, dict] = field(default_factory=dict)  # event_id -> first 2xx body
    statuses: Counter = field(default_factory=Counter)
    unavailable_without_retry_after: int = 0
    transport_errors: Counter = field(default_factory=Counter)
    retries: int = 0
    given_up: list[str] = field(default_factory=list)
    bad: list[tuple[str, int, str]] = field(default_factory=list)  # unexpected answers
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def deduplicated_acks(self) -> int:
        """Acks that said "already stored": an earlier attempt committed unanswered."""
        return sum(1 for body in self.acked.values() if body.get("deduplicated"))


class Load:
    """``clients`` threads, each posting ``per_client`` events in order."""

    def __init__(self, base: str, token: str, run: str, clients: int = 6,
                 per_client: int = 120, event_deadline: float = 150.0,
                 pause: float = 0.005) -> None:
        self.base = base
        self.token = token
        self.run = run
        self.clients = clients
        self.per_client = per_client
        self.event_deadline = event_deadline
        self.pause = pause
        self.tally = Tally()
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()

    def event(self, client: int, n: int) -> dict:
        event_id = f"{self.run}-{client}-{n}"
        rng = random.Random(event_id)
        return {"event_name": "Placed Order", "event_id": event_id,
                "aliases": [f"urn:email:buyer{rng.randrange(40)}@{self.run}.test",
                            f"urn:cart:{event_id}"],
                "properties": {"client": client, "n": n, "total": rng.randrange(1, 500)},
                "profile_properties": {"$last_order": event_id}}

    def start(self) -> Load:
        for client in range(self.clients):
            thread = threading.Thread(target=self._client, args=(client,), daemon=True,
                                      name=f"load-{client}")
            thread.start()
            self._threads.append(thread)
        return self

    def join(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    def stop(self) -> None:
        self._stop.set()
        self.join(60)

    def acked_count(self) -> int:
        with self.tally.lock:
            return len(self.tally.acked)

    def wait_acked(self, count: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self.acked_count() < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.acked_count()} of {count} events acknowledged "
                                     f"within {timeout:.0f} s: {self.tally.statuses}")
            time.sleep(0.1)

    def _client(self, client: int) -> None:
        t = self.tally
        timeout = httpx.Timeout(40.0, connect=5.0)
        with httpx.Client(base_url=self.base, timeout=timeout) as http:
            for n in range(self.per_client):
                if self._stop.is_set():
                    return
                body = self.event(client, n)
                event_id = body["event_id"]
                with t.lock:
                    t.sent.add(event_id)
                self._send(http, body, event_id)
                time.sleep(self.pause)

    def _send(self, http: httpx.Client, body: dict, event_id: str) -> None:
        t = self.tally
        deadline = time.monotonic() + self.event_deadline
        backoff = 0.2
        for attempt in range(200):
            if attempt:
                with t.lock:
                    t.retries += 1
            wait = backoff
            try:
                resp = http.post(f"/v1/webhook/{self.token}", json=body)
            except httpx.TransportError as exc:  # refused, reset, timed out: outcome unknown
                with t.lock:
                    t.transport_errors[type(exc).__name__] += 1
            else:
                with t.lock:
                    t.statuses[resp.status_code] += 1
                if 200 <= resp.status_code < 300:
                    with t.lock:
                        t.acked.setdefault(event_id, resp.json())
                    return
                if resp.status_code not in RETRYABLE:
                    with t.lock:
                        t.bad.append((event_id, resp.status_code, resp.text[:300]))
                    if resp.status_code < 500:
                        return  # a 4xx will not get better by retrying
                elif "retry-after" not in resp.headers:
                    with t.lock:
                        t.unavailable_without_retry_after += 1
                else:  # honour Retry-After, capped so that the test stays short
                    wait = min(float(resp.headers["retry-after"]), 2.0)
            if time.monotonic() + wait > deadline or self._stop.is_set():
                break
            time.sleep(wait * random.uniform(0.5, 1.0))
            backoff = min(backoff * 2, 2.0)
        with t.lock:
            t.given_up.append(event_id)
