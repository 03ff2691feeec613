"""Identifiers and secrets: random ids with a readable prefix; secrets stored as hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def new_secret(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(24)}"


def secret_hash(secret: str) -> str:
    # Secrets are 192-bit random strings, so a plain SHA-256 cannot be brute-forced.
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
