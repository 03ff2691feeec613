"""How user-supplied properties are stored. Pure.

* Events keep their properties losslessly in ``properties_json``; every top-level
  property whose value is a scalar (or a list of scalars of one type) is also a node
  property ``prop.<key>`` so that analysts can write ``e.`prop.total` > 100``.
* Profiles keep their properties verbatim as node properties (``p.`$email```); a
  nested value is stored there as its JSON text. ``properties_json`` is the lossless
  copy and ``property_ts_json`` remembers, per key, the event time that set it:
  per key, the most recent write by event time wins
  (docs/identity.md#profile-properties-latest-timestamp-wins).
* Neo4j never frees a property-key name once used, so one write may turn at most a
  bounded number of its keys into node properties (:func:`promotable`); the others are
  kept only in ``properties_json`` (docs/security.md#input-hygiene-and-limits).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

PROFILE_RESERVED = frozenset(
    {"profile_id", "cluster_id", "created_at", "updated_at", "properties_json", "property_ts_json"}
)
SCALARS = (str, int, float, bool)
INT64 = range(-(2**63), 2**63)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _fits(value: Any) -> bool:
    # JSON integers are unbounded; Neo4j's are 64-bit, and the driver raises on the rest.
    return isinstance(value, bool) or not isinstance(value, int) or value in INT64


def _storable(value: Any) -> Any:
    """A value Neo4j can hold as a property, or None when it cannot as it is."""
    if isinstance(value, SCALARS):
        return value if _fits(value) else None
    if isinstance(value, list) and value:
        kinds = {bool if isinstance(v, bool) else type(v) for v in value}
        if len(kinds) == 1 and kinds <= {str, int, float, bool} and all(map(_fits, value)):
            return value
    return None


def nameable(key: str) -> bool:
    """Neo4j refuses empty property names and names with NUL; such keys live only in JSON."""
    return bool(key) and "\x00" not in key


def promotable(
    properties: dict[str, Any], profile_properties: dict[str, Any], limit: int
) -> tuple[frozenset[str], frozenset[str]]:
    """The event and profile property keys one write may make node properties: the first
    ``limit`` of them in the order sent, event properties first."""
    event = [k for k, v in properties.items() if nameable(k) and _storable(v) is not None]
    event = event[:limit]
    profile = [k for k in profile_properties if nameable(k) and k not in PROFILE_RESERVED]
    return frozenset(event), frozenset(profile[:max(limit - len(event), 0)])


def event_node_properties(
    properties: dict[str, Any], promoted: frozenset[str] | None = None
) -> dict[str, Any]:
    """``prop.<key>`` for each top-level scalar (or homogeneous scalar list) in
    ``promoted`` (all of them when None)."""
    out = {}
    for key, value in properties.items():
        storable = _storable(value)
        if storable is not None and nameable(key) and (promoted is None or key in promoted):
            out[f"prop.{key}"] = storable
    return out


def profile_node_value(value: Any) -> Any:
    if value is None:
        return None
    storable = _storable(value)
    return storable if storable is not None else dumps(value)


def iso(ts: datetime) -> str:
    return ts.isoformat(timespec="microseconds")


def apply_latest(
    stored: dict[str, Any], stored_ts: dict[str, str], incoming: dict[str, Any], ts: datetime,
    promoted: frozenset[str] | None = None,
) -> tuple[dict[str, Any], dict[str, str], dict[str, Any]]:
    """Per key, the write with the latest event time wins (a tie goes to the later write).

    Returns the new properties, their times, and the node-property changes to SET
    (None removes a key). A key not in ``promoted`` (when given) is kept in the JSON copy
    only; its node property, if an earlier write made one, is removed rather than left
    stale (setting null creates no property-key name).
    """
    props, times, changes = dict(stored), dict(stored_ts), {}
    when = iso(ts)
    for key, value in incoming.items():
        if key in times and times[key] > when:
            continue
        times[key] = when
        if value is None:
            props.pop(key, None)
        else:
            props[key] = value
        if key not in PROFILE_RESERVED and nameable(key):
            keep = promoted is None or key in promoted
            changes[key] = profile_node_value(value) if keep else None
    return props, times, changes


def merged_view(profiles: list[tuple[dict[str, Any], dict[str, str]]]) -> dict[str, Any]:
    """A cluster's properties: per key, the value set at the latest event time."""
    best: dict[str, tuple[str, Any]] = {}
    for props, times in profiles:
        # A key in times but not in props was removed (set to null) at that time: the
        # removal is a write too, and it hides older values held by other profiles.
        for key in props.keys() | times.keys():
            when = times.get(key, "")
            if key not in best or when > best[key][0]:
                best[key] = (when, props.get(key))
    return {key: value for key, (_, value) in sorted(best.items()) if value is not None}


def loads(text: str | None) -> dict[str, Any]:
    return json.loads(text) if text else {}
