"""Where evidence came from, and how much it may do (docs/security.md#the-trust-model). Pure.

A webhook (the shop's backend, holding a secret token) writes ``trusted`` evidence. The
web token is public, so what a browser says is a ``claim`` — except a strong id the shop's
backend signed for the page (HMAC-SHA256 of the alias URN with the web source's signing
secret), which is ``signed``. Data written before this model carries no trust and reads as
``trusted``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any


class Trust(StrEnum):
    CLAIM = "claim"
    SIGNED = "signed"
    TRUSTED = "trusted"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def vouched(self) -> bool:
        """Trusted or signed: evidence a hostile page cannot forge."""
        return self is not Trust.CLAIM

    @classmethod
    def stored(cls, value: str | None) -> Trust:
        """A stored trust property; a missing one predates the model and is trusted."""
        return cls(value) if value else cls.TRUSTED


_RANK = {Trust.CLAIM: 0, Trust.SIGNED: 1, Trust.TRUSTED: 2}


def weakest(*levels: Trust) -> Trust:
    return min(levels, key=lambda t: t.rank)


def strongest(*levels: Trust) -> Trust:
    return max(levels, key=lambda t: t.rank)


def sign(secret: str, urn: str) -> str:
    """What the shop's backend computes for the page: hex HMAC-SHA256 of the URN."""
    return hmac.new(secret.encode(), urn.encode(), hashlib.sha256).hexdigest()


def signature_ok(secret: str | None, urn: str, signature: str) -> bool:
    if not secret:
        return False
    return hmac.compare_digest(sign(secret, urn), signature.strip().lower())


def accepted_secrets(source: Mapping[str, Any], now: datetime) -> list[str]:
    """The secrets a web source's signatures may be made with at ``now``: its signing
    secret, and the one a rotation replaced until its grace window ends
    (docs/security.md#rotating-the-signing-secret)."""
    secrets = [source["signing_secret"]] if source.get("signing_secret") else []
    until = source.get("previous_signing_secret_until")
    if source.get("previous_signing_secret") and until is not None and now < until:
        secrets.append(source["previous_signing_secret"])
    return secrets
