"""Matching policy: priorities, limits and block lists, kept apart from runtime settings.

A :class:`Policy` is plain data (pydantic), serialisable to JSON and loadable
from a TOML or JSON file named by ``CVG_POLICY_FILE``. The defaults follow
docs/identity.md (#aliases, #merge-protection) and the junk identifiers seen in
PostHog, Segment and RudderStack practice.
"""

from __future__ import annotations

import json
import re
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_PRIORITY: dict[str, int] = {
    "customer_id": 0,
    "user_id": 0,
    "email": 1,
    "phone": 2,
    "checkout": 3,
    "checkout_token": 3,
    "cart": 4,
    "cart_token": 4,
    "cookie": 9,
    "anonymous_id": 9,  # a Segment client's device id: a cookie by another name
}
OTHER_PRIORITY = 5

DEFAULT_BLOCKED_VALUES: dict[str, list[str]] = {
    "*": [
        "", "null", "undefined", "none", "nan", "true", "false", "0", "-1",
        "[object object]", "anonymous", "guest", "id", "email", "not_authenticated",
        "nil", "n/a", "unknown", "{}", "[]",
    ],
    "email": ["test@test.com", "test@example.com", "noreply@gmail.com", "email@email.com"],
}
DEFAULT_BLOCKED_PATTERNS: dict[str, list[str]] = {
    # values of only zeroes and dashes: all-zero UUIDs, "000-000", "--"
    "*": [r"[0\-]+"],
    "email": [r".*@example\.(com|org|net)", r"(no-?reply|donotreply|test)@.*\.(invalid|test)"],
}


# The default policy's device types (Policy.device_types).
DEVICE_TYPES = ("cookie", "anonymous_id", "checkout", "checkout_token", "cart", "cart_token")
# The default policy's handoff types (Policy.handoff_types): the device types that a
# browser session hands on, rather than the browser itself.
HANDOFF_TYPES = ("checkout", "checkout_token", "cart", "cart_token")

class Policy(BaseModel):
    """How aliases are trusted. Exact values match case-insensitively; patterns fully."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    priority: dict[str, int] = Field(default_factory=lambda: dict(DEFAULT_PRIORITY))
    other_priority: int = OTHER_PRIORITY
    blocked_values: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_BLOCKED_VALUES.items()}
    )
    blocked_patterns: dict[str, list[str]] = Field(
        default_factory=lambda: {k: list(v) for k, v in DEFAULT_BLOCKED_PATTERNS.items()}
    )
    max_aliases: int = 10
    # Most distinct values of one type one cluster may hold; None means unlimited.
    # In TOML, which has no null, write "unlimited".
    limits: dict[str, int | Literal["unlimited"] | None] = Field(
        default_factory=lambda: {"customer_id": 1, "user_id": 1, "cookie": None,
                                 "anonymous_id": None}
    )
    default_limit: int | None = 5
    # An alias held by this many profiles is a hub (a shared tablet, a cached id): it is
    # quarantined and links nothing more.
    hub_threshold: int = 50
    # One event id (an order reported by the browser and the backend) joins at most this
    # many more profiles to its performer; later repeats are stored but link nothing.
    event_hub_threshold: int = 5
    # Types that name a device or one browser session on it, not a person
    # (docs/identity.md#device-hand-over): its cookie, and the checkout and cart tokens its
    # session hands to another domain, which belong to whoever holds the device then.
    device_types: list[str] = Field(default_factory=lambda: list(DEVICE_TYPES))
    # Login identities: a device write carrying one of these that its device's current
    # person does not hold, when that person holds some, hands the device over instead of
    # joining the two. Empty: off (a device joins whoever logs in on it, limits permitting).
    handover_types: list[str] = Field(
        default_factory=lambda: ["customer_id", "user_id", "email", "phone"])
    # Session stitching (docs/identity.md#session-stitching): a write carrying a login
    # identity takes the anonymous events of its own session on its device (no gap over
    # this many minutes since the device's last write, none identified since) from
    # whoever else performed them. 0: off.
    session_minutes: int = Field(default=30, ge=0)
    # Shared devices (docs/identity.md#shared-devices): a device more than one person has
    # used, whose last user is identified and whose session on it is over, is decided as
    # new by an anonymous write: its anonymous use is no one's until someone identifies
    # on it again. False: it follows its last user.
    shared_device_own_profile: bool = True
    # Tokens a device's session hands on to another domain (a cart given to the checkout
    # page): a person's later vouched use of one (the backend's order) counts as their use
    # of the device that handed it on (docs/identity.md#shared-devices). Empty: off.
    handoff_types: list[str] = Field(default_factory=lambda: list(HANDOFF_TYPES))
    # A login by a person already known elsewhere, during a session on a device that only
    # anonymous use has held, takes that session's events but not the device's older
    # anonymous history, which may be its owner's
    # (docs/identity.md#a-known-persons-first-login). Needs session_minutes. False: the
    # login joins the device's whole history.
    first_login_session_only: bool = True

    def limit(self, alias_type: str) -> int | None:
        value = self.limits.get(alias_type, self.default_limit)
        return None if value == "unlimited" else value

    @property
    def unlimited_types(self) -> list[str]:
        return sorted(t for t in self.limits if self.limit(t) is None)

    def rank(self, alias_type: str) -> int:
        """Lower is stronger: the write's profile is found through the lowest rank."""
        return self.priority.get(alias_type, self.other_priority)

    @cached_property
    def _compiled(self) -> dict[str, list[re.Pattern[str]]]:
        return {
            t: [re.compile(p, re.IGNORECASE) for p in pats]
            for t, pats in self.blocked_patterns.items()
        }

    @cached_property
    def _exact(self) -> dict[str, frozenset[str]]:
        return {t: frozenset(v.casefold() for v in vals) for t, vals in self.blocked_values.items()}

    def block_reason(self, alias_type: str, value: str) -> str | None:
        """Why ``value`` is junk for ``alias_type``, or None when it may link profiles."""
        folded = value.casefold()
        for scope in ("*", alias_type):
            if folded in self._exact.get(scope, ()):
                return f"blocked: '{value}' is a placeholder value"
            for pattern in self._compiled.get(scope, ()):
                if pattern.fullmatch(value):
                    return f"blocked: '{value}' matches the junk pattern {pattern.pattern}"
        return None

    @classmethod
    def load(cls, path: Path | None) -> Policy:
        if path is None:
            return cls()
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return cls.model_validate(data)
