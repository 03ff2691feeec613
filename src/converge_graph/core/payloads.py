"""What a destination receives, pure: the enriched event or identity change, in the
destination's format (docs/destinations.md#payloads).

* ``webhook``: ``{"type", "timestamp", "data"}`` as Standard Webhooks suggests; an event's
  ``data`` is the event, the person's merged profile properties and aliases *as they are
  when it is sent*, and its ``cluster_id``.
* ``meta-capi``: the Meta Conversions API body, ``{"data": [server event]}``, with the
  customer information normalised and SHA-256 hashed as Meta documents (email trimmed and
  lowercased; phone as digits with country code; names lowercased without punctuation).
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import datetime
from typing import Any

from converge_graph.core.aliases import normalise_value

FORMATS = ("webhook", "meta-capi")
PURPOSES = ("marketing", "analytics")
EVENT_METHODS = ("track", "forward")
IDENTITY_TOPICS = ("identity.merged", "identity.split", "identity.erased")


def consent_refusal(purpose: str, profiles: list[dict[str, Any]]) -> str | None:
    """Why this person may not be sent to a destination of this purpose, or None.

    ``$consent`` is what the browser's ``consent`` call stored on each of the person's
    profiles. A denial on *any* of them wins over grants on others, whatever their event
    times: timestamps are the sender's word, and a page (the web token is public) must
    not be able to outvote a person's "no" by writing a later "yes". An absent choice is
    not a denial."""
    for props in profiles:
        consent = props.get("$consent")
        if isinstance(consent, dict) and consent.get(purpose) == "denied":
            return f"consent: {purpose} denied by the person ($consent.{purpose})"
    return None


def event_data(event: dict[str, Any], profile_properties: dict[str, Any],
               aliases: list[str]) -> dict[str, Any]:
    return {
        "event_id": event["event_id"], "event_name": event["event_name"],
        "method": event["method"], "timestamp": event["timestamp"].isoformat(),
        "properties": event["properties"], "datasource": event["datasource"],
        "cluster_id": event["cluster_id"], "profile_id": event["profile_id"],
        "profile_properties": profile_properties, "aliases": sorted(aliases),
    }


def webhook_body(topic: str, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {"type": topic, "timestamp": now.isoformat(), "data": data}


# -- Meta Conversions API -------------------------------------------------------------
def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def norm_email(value: str) -> str | None:
    value = value.strip().lower()
    return value if "@" in value else None


def norm_phone(value: str, default_region: str) -> str | None:
    """Digits only, with the country code (from E.164), no leading zeros or '+'."""
    try:
        return normalise_value("phone", value, default_region).lstrip("+")
    except ValueError:
        return None


def norm_name(value: str) -> str | None:
    """Lowercase, no punctuation or spaces; letters stay in UTF-8 (Meta: fn, ln)."""
    kept = "".join(c for c in unicodedata.normalize("NFC", value.strip().lower())
                   if not unicodedata.category(c).startswith(("P", "Z", "S", "C")))
    return kept or None


def _values(props: dict[str, Any], key: str) -> list[str]:
    value = props.get(key)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def _aliases(aliases: list[str], alias_type: str) -> list[str]:
    prefix = f"urn:{alias_type}:"
    return [a[len(prefix):] for a in aliases if a.startswith(prefix)]


def meta_user_data(data: dict[str, Any], default_region: str) -> dict[str, list[str]]:
    """``user_data``: each identifier normalised, deduplicated and hashed."""
    props, aliases = data["profile_properties"], data["aliases"]
    found = {
        "em": [norm_email(v) for v in _values(props, "$email") + _aliases(aliases, "email")],
        "ph": [norm_phone(v, default_region)
               for v in _values(props, "$phone_number") + _aliases(aliases, "phone")],
        "fn": [norm_name(v) for v in _values(props, "$first_name")],
        "ln": [norm_name(v) for v in _values(props, "$last_name")],
        # A stable id of the person in the sender's system: customer ids, else the cluster.
        "external_id": _aliases(aliases, "customer_id") or [data["cluster_id"]],
    }
    return {key: sorted({sha256(v) for v in values if v})
            for key, values in found.items() if any(values)}


def meta_body(data: dict[str, Any], event_time: datetime, default_region: str
              ) -> dict[str, Any]:
    return {"data": [{
        "event_name": data["event_name"],
        "event_time": int(event_time.timestamp()),
        "event_id": data["event_id"],  # Meta deduplicates it against the pixel's eventID
        "action_source": "website",
        "user_data": meta_user_data(data, default_region),
        "custom_data": data["properties"],
    }]}
