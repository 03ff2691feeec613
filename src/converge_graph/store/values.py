"""Driver values to plain Python: temporals to datetimes, graph elements to core types.

Nothing of the driver's leaves ``store/``: reads hand out dicts, lists, datetimes and
:mod:`converge_graph.core.cypher`'s ``GraphNode``/``GraphRel``/``GraphPath``.

The write path's statements exchange times as ISO-8601 text (:func:`wire`, :func:`when`)
instead of driver temporals: the driver packs and unpacks temporals in pure Python, which
profiled at more than half of the write path's CPU in the API (benchmarks/README.md); the
statements store them with ``datetime(…)`` and return ``toString(…)``, both exact to the
microsecond.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import neo4j.graph
import neo4j.time

from converge_graph.core.cypher import GraphNode, GraphPath, GraphRel

KEYS = ("profile_id", "urn", "event_id", "source_id", "cluster_id")


def native(value: Any) -> Any:
    """Neo4j temporal values to Python datetimes, recursively."""
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, list):
        return [native(v) for v in value]
    if isinstance(value, dict):
        return {k: native(v) for k, v in value.items()}
    return value


_LEAVES = frozenset({str, int, float, bool, type(None)})


def wire(value: Any) -> Any:
    """Datetimes as ISO-8601 text, recursively through dicts and lists. Dispatches on the
    exact type first: a batch's parameters are tens of thousands of plain leaves, and
    three ``isinstance`` checks per leaf were a sixth of the write path's Python CPU."""
    kind = type(value)
    if kind in _LEAVES:
        return value
    if kind is dict:
        return {k: wire(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [wire(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [wire(v) for v in value]
    return value


def when(text: str | None) -> datetime | None:
    """A time a write-path statement returned with ``toString(…)`` (a named zone's
    ``[Europe/Paris]`` suffix dropped: the offset before it is exact)."""
    if text is None:
        return None
    return datetime.fromisoformat(text.split("[", 1)[0] if text[-1] == "]" else text)


def _key(node: Any) -> Any:
    if node is None:
        return None
    for key in KEYS:
        if key in node:
            return node[key]
    return node.element_id


def plain(value: Any) -> Any:
    """Any value a query returns, with graph elements as core types."""
    if isinstance(value, neo4j.graph.Node):
        return GraphNode(tuple(sorted(value.labels)), plain(dict(value.items())), _key(value))
    if isinstance(value, neo4j.graph.Relationship):
        return GraphRel(value.type, _key(value.start_node), _key(value.end_node),
                        plain(dict(value.items())))
    if isinstance(value, neo4j.graph.Path):
        return GraphPath([plain(n) for n in value.nodes],
                         [plain(r) for r in value.relationships])
    if isinstance(value, neo4j.time.Duration):
        return value.iso_format()
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value
