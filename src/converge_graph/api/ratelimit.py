"""Rate limiting per credential: a token bucket for each datasource token or API key.

The credential is read where the routes read it (the token in ``/v1/webhook/{token}``,
``/v1/webhook/{token}/batch`` and ``/v1/collect/{token}``, the ``X-Webhook-Token``
header, the bearer key of reads and admin routes), before the body is read or Neo4j is
asked anything, so a flood costs neither. Requests without a credential (health, docs,
the SDK) are not limited. An exhausted bucket answers 429 with ``Retry-After``.

Off unless ``CVG_RATE_LIMIT_PER_SECOND`` > 0; ``CVG_RATE_LIMIT_BURST`` is the bucket size
(0: one second's worth). Buckets live in this process: behind N API processes a
credential gets N times the rate. Unknown credentials get buckets too (they are answered
401 afterwards); the number of buckets is capped, the least recently used going first.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import OrderedDict

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from converge_graph.settings import Settings

TOKEN_PATH = re.compile(r"^/v1/(?:webhook|collect)/([^/]+)(?:/batch)?/?$")
MAX_BUCKETS = 100_000


class TokenBuckets:
    """``take(key)`` -> 0 when allowed, else the seconds until one request would be."""

    def __init__(self, rate: float, burst: int, clock=time.monotonic,
                 max_buckets: int = MAX_BUCKETS) -> None:
        self.rate = rate
        self.burst = float(burst or max(1, math.ceil(rate)))
        self.clock = clock
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)
        return wait


def credential(scope: Scope) -> tuple[str, str] | None:
    """(field, secret) of the credential this request carries, if any."""
    match = TOKEN_PATH.match(scope["path"])
    if match:
        return "token", match.group(1)
    headers = dict(scope.get("headers", []))
    hook = headers.get(b"x-webhook-token")
    if hook and scope["path"].startswith("/v1/webhook"):
        return "X-Webhook-Token", hook.decode("latin-1")
    auth = headers.get(b"authorization", b"").decode("latin-1")
    scheme, _, key = auth.partition(" ")
    if scheme.lower() == "bearer" and key.strip():
        return "Authorization", key.strip()
    return None


class RateLimit:
    """Pure ASGI: refuses a request whose credential's bucket is empty."""

    def __init__(self, app: ASGIApp, *, buckets: TokenBuckets) -> None:
        self.app = app
        self.buckets = buckets

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS":
            await self.app(scope, receive, send)
            return
        found = credential(scope)
        if found is not None:
            field, secret = found
            # Buckets are keyed by a digest: raw secrets are not kept in memory longer than
            # the request that carried them.
            wait = self.buckets.take(hashlib.sha256(secret.encode()).hexdigest())
            if wait > 0:
                await self._refuse(send, field, wait)
                return
        await self.app(scope, receive, send)

    async def _refuse(self, send: Send, field: str, wait: float) -> None:
        retry_after = max(1, math.ceil(wait))
        body = json.dumps({"error": {
            "code": "rate_limited", "field": field,
            "message": f"too many requests for this {field}: at most "
                       f"{self.buckets.rate:g} per second (bursts of "
                       f"{self.buckets.burst:g}); retry after {retry_after} s",
        }}).encode()
        await send({"type": "http.response.start", "status": 429, "headers": [
            (b"content-type", b"application/json"), (b"retry-after", str(retry_after).encode()),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def install(app: FastAPI, settings: Settings) -> None:
    """Limit every credential to the configured rate; nothing when the rate is 0."""
    if settings.rate_limit_per_second <= 0:
        return
    buckets = TokenBuckets(settings.rate_limit_per_second, settings.rate_limit_burst)
    app.state.rate_limits = buckets
    app.add_middleware(RateLimit, buckets=buckets)
