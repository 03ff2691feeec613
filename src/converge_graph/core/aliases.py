"""Parse, normalise and screen alias URNs (docs/identity.md#aliases).
Pure: no driver, no web framework.

* Not ``urn:<type>:<value>`` at all → :class:`InvalidAlias` (a client bug, 422).
* Well formed but junk, or failing its type's check → dropped from identity and
  reported in ``ignored_aliases``; the event itself is kept.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from converge_graph.core.policy import Policy
from converge_graph.errors import InvalidAlias

URN_RE = re.compile(r"urn:([A-Za-z][A-Za-z0-9_]{0,31}):(.*)", re.DOTALL)
MAX_VALUE_LEN = 512
# Invisible characters (zero-width, bidi controls, soft hyphen: Unicode category Cf) and
# control characters (Cc): "42\u200b" or "\u202e42" must not be a customer id distinct from
# "42" that looks the same to a person reviewing it (docs/security.md#input-hygiene-and-limits).
INVISIBLE = ("Cf", "Cc")


@dataclass(frozen=True, order=True)
class Alias:
    urn: str
    type: str
    value: str


@dataclass
class ScreenedAliases:
    accepted: list[Alias] = field(default_factory=list)
    ignored: list[dict[str, str]] = field(default_factory=list)

    @property
    def urns(self) -> list[str]:
        return [a.urn for a in self.accepted]


def split_urn(raw: object, field_name: str = "alias") -> tuple[str, str]:
    """``(type, trimmed value)`` of a URN string, or InvalidAlias naming the field."""
    if not isinstance(raw, str):
        raise InvalidAlias(
            f"{field_name} must be a string like 'urn:email:jane@shop.com'", field=field_name
        )
    match = URN_RE.fullmatch(raw.strip())
    if match is None:
        raise InvalidAlias(
            f"{field_name} {raw[:80]!r} is not of the form urn:<type>:<value>, "
            "with a type of letters, digits and '_' (e.g. 'urn:email:jane@shop.com')",
            field=field_name,
        )
    alias_type = match.group(1).lower()
    # NFKC: full-width "４２" and the ligature "ﬁ" are the same identifier as "42" and "fi".
    value = unicodedata.normalize("NFKC", match.group(2)).strip()
    hidden = next((c for c in value if unicodedata.category(c) in INVISIBLE), None)
    if hidden is not None:
        raise InvalidAlias(
            f"{field_name} holds the invisible or control character U+{ord(hidden):04X} "
            f"({unicodedata.name(hidden, 'control')}); send the identifier without it",
            field=field_name,
        )
    if not 1 <= len(value) <= MAX_VALUE_LEN:
        raise InvalidAlias(
            f"{field_name} value must be 1 to {MAX_VALUE_LEN} characters after trimming",
            field=field_name,
        )
    return alias_type, value


@functools.lru_cache(maxsize=16384)
def normalise_value(alias_type: str, value: str, default_region: str) -> str:
    """The canonical form of a value, or ValueError saying why it is not a valid one.
    Cached (a pure function; refusals are not cached): checking an email is the costliest
    step of screening a write (IDNA and Unicode rules), and the same customers' addresses
    arrive again and again (benchmarks/README.md)."""
    if alias_type == "email":
        try:
            checked = validate_email(value, check_deliverability=False)
        except EmailNotValidError as exc:
            raise ValueError(f"invalid email: {exc}") from None
        return checked.normalized.lower()
    if alias_type == "phone":
        try:
            number = phonenumbers.parse(value, default_region)
        except phonenumbers.NumberParseException as exc:
            raise ValueError(f"invalid phone: {exc}") from None
        if not phonenumbers.is_valid_number(number):
            raise ValueError("invalid phone: not a valid number for its region")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return value


def parse_alias(raw: str, policy: Policy, default_region: str) -> Alias:
    """Parse and normalise one URN; ValueError for a well-formed URN that must be ignored."""
    alias_type, value = split_urn(raw)
    value = normalise_value(alias_type, value, default_region)
    reason = policy.block_reason(alias_type, value)
    if reason:
        raise ValueError(reason)
    return Alias(urn=f"urn:{alias_type}:{value}", type=alias_type, value=value)


def screen(
    raw_aliases: list[str], policy: Policy, default_region: str, field_name: str = "aliases"
) -> ScreenedAliases:
    """Split a write's aliases into those that may link profiles and those ignored."""
    if len(raw_aliases) > policy.max_aliases:
        raise InvalidAlias(
            f"{field_name} has {len(raw_aliases)} entries; at most {policy.max_aliases} "
            "aliases are allowed per write — send the strongest identifiers",
            field=field_name,
        )
    result = ScreenedAliases()
    seen: set[str] = set()
    for index, raw in enumerate(raw_aliases):
        where = f"{field_name}[{index}]"
        split_urn(raw, where)  # a malformed URN is a client bug: 422 before anything else
        try:
            alias = parse_alias(raw, policy, default_region)
        except ValueError as exc:
            result.ignored.append({"alias": raw, "reason": str(exc)})
            continue
        if alias.urn not in seen:
            seen.add(alias.urn)
            result.accepted.append(alias)
    return result
