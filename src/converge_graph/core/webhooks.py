"""Delivery rules, pure: Standard Webhooks signatures, retry schedule, what an answer means.

Signatures follow the Standard Webhooks specification (standardwebhooks.com) so that a
receiver verifies them with an off-the-shelf library: the secret is ``whsec_<base64>``;
``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">``;
``webhook-id`` is the delivery's id, the same on every retry (receivers deduplicate on
it); ``webhook-timestamp`` is the attempt's time in epoch seconds.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

SECRET_PREFIX = "whsec_"
# Answers worth another try: the receiver was slow, rate-limited us, or failed itself.
RETRYABLE = frozenset({408, 429})


def new_signing_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def signed_headers(secret: str, msg_id: str, sent_at: datetime, body: bytes) -> dict[str, str]:
    ts = int(sent_at.timestamp())
    return {"content-type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(ts),
            "webhook-signature": signature(secret, msg_id, ts, body)}


@dataclass(frozen=True)
class RetryPolicy:
    first: float = 1.0  # seconds before the first retry
    ceiling: float = 600.0  # never further apart than this
    window: float = 24 * 3600.0  # give up this long after the item was recorded

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt: doubling from
        ``first``, capped at ``ceiling``, with ±25 % jitter so that many items failing
        together do not come back together."""
        base = min(self.first * 2 ** max(attempts - 1, 0), self.ceiling)
        return min(base * (rng or random).uniform(0.75, 1.25), self.ceiling)


@dataclass(frozen=True)
class Outcome:
    """What to do with an item after one attempt."""

    status: str  # delivered | failed (retry later) | dead
    reason: str
    retry_after: float | None = None  # the receiver's Retry-After, in seconds


def classify(status_code: int | None, error: str | None = None,
             retry_after: float | None = None) -> Outcome:
    """A 2xx delivers; a network error, 408, 429 or 5xx is retried; any other answer
    (a 3xx, a 4xx) will not change by retrying, so the item is dead at once."""
    if status_code is None:
        return Outcome("failed", f"network: {error}")
    if 200 <= status_code < 300:
        return Outcome("delivered", f"HTTP {status_code}")
    if status_code in RETRYABLE or status_code >= 500:
        return Outcome("failed", f"HTTP {status_code}", retry_after)
    return Outcome("dead", f"HTTP {status_code}: the receiver refused it")


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - now).total_seconds(), 0.0) if when.tzinfo else None


def next_attempt(policy: RetryPolicy, attempts: int, created_at: datetime, now: datetime,
                 retry_after: float | None = None) -> datetime | None:
    """When to try again after the ``attempts``-th failure, or None: the window is over."""
    wait = policy.delay(attempts)
    if retry_after is not None:  # the receiver knows best, within our window
        wait = max(retry_after, 0.0)
    when = now + timedelta(seconds=wait)
    return None if when > created_at + timedelta(seconds=policy.window) else when
