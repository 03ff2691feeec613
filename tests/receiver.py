"""A real HTTP receiver for destination tests: a threading ``http.server`` on loopback
that records every request and answers from a script (statuses, Retry-After, delays),
and can be taken down and brought back on the same port."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    port: int = 0
    # Answers in order, then `default` for the rest: an int status or (status, headers).
    script: list[Any] = field(default_factory=list)
    default: int = 200
    delay: float = 0.0  # seconds before answering
    received: list[Received] = field(default_factory=list)
    in_flight: Counter = field(default_factory=Counter)
    max_in_flight_per_id: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                msg_id = headers.get("webhook-id", "")
                with receiver.lock:
                    receiver.in_flight[msg_id] += 1
                    receiver.max_in_flight_per_id = max(receiver.max_in_flight_per_id,
                                                        receiver.in_flight[msg_id])
                    answer = receiver.script.pop(0) if receiver.script else receiver.default
                if receiver.delay:
                    time.sleep(receiver.delay)
                status, extra = answer if isinstance(answer, tuple) else (answer, {})
                with receiver.lock:
                    receiver.in_flight[msg_id] -= 1
                    receiver.received.append(Received(headers, body, time.monotonic(), status))
                payload = json.dumps({"status": status}).encode()
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def delivered(self) -> list[Received]:
        """Requests answered 2xx."""
        with self.lock:
            return [r for r in self.received if 200 <= r.answered < 300]

    def wait_for(self, count: int, timeout: float = 20.0, delivered: bool = True
                 ) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.delivered() if delivered else list(self.received)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        found = self.delivered() if delivered else list(self.received)
        raise AssertionError(f"the receiver got {len(found)} of {count} requests in "
                             f"{timeout:.0f} s: {[r.answered for r in self.received]}")
