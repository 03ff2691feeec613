"""The transactional outbox (docs/destinations.md#the-outbox).

Every write that stores a new event or changes an identity records its deliveries with
``record_deliveries.cypher`` *inside its own transaction*: the delivery is committed
exactly when its cause is, so a crash can neither lose one nor invent one. Workers
(:mod:`converge_graph.service.delivery`) send them afterwards, at least once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from converge_graph.core import properties as props_mod

if TYPE_CHECKING:
    from converge_graph.core.batch import Delta, Overlay, Prepared
    from converge_graph.store.graph import Graph, Tx


def change(topic: str, cluster_id: str | None, cluster_ids: list[str],
           data: dict[str, Any]) -> dict[str, Any]:
    """One identity change, as record_deliveries.cypher takes it. ``cluster_id`` is the
    person whose consent decides; ``cluster_ids`` every id it names (erasure finds it)."""
    return {"topic": topic, "cluster_id": cluster_id, "cluster_ids": cluster_ids,
            "data_json": props_mod.dumps(data)}


def _link(link: dict[str, Any]) -> dict[str, Any]:
    return {"from_profile": link["from"], "to_profile": link["to"], "via": link["via"],
            "reason": link["reason"], "event_id": link.get("event_id"),
            "created_at": link["created_at"].isoformat()}


def merged(surviving: str, absorbed: list[str], links: list[dict[str, Any]]
           ) -> dict[str, Any]:
    return change("identity.merged", surviving, [surviving, *absorbed], {
        "cluster_id": surviving, "absorbed_cluster_ids": absorbed,
        "evidence": [_link(link) for link in links]})


def record_ingest(graph: Graph, tx: Tx, prepared: list[Prepared], results: list[dict],
                  overlay: Overlay, delta: Delta, now: datetime) -> int:
    """The outbox rows of one ingest batch: each event stored for the first time (unless
    its write says not to forward it: an imported one), and each merge of existing
    clusters (the survivor, the absorbed ids, the SAME_AS evidence). Returns how many
    deliveries that recorded (none without a matching destination)."""
    events = []
    for w, r in zip(prepared, results, strict=True):
        if w.forward and r["event_id"] is not None and not r["deduplicated"]:
            events.append({"event_id": r["event_id"], "event_name": w.event_name,
                           "method": w.method})
    absorbed: dict[str, list[str]] = {}
    for relabel in delta.relabels:  # existing clusters merged away: {from, to (the root)}
        absorbed.setdefault(relabel["to"], []).append(relabel["from"])
    changes = []
    for surviving, losers in sorted(absorbed.items()):
        evidence = [link for link in delta.links
                    if overlay.find(overlay.nb.profile_cluster[link["from"]]) == surviving]
        changes.append(merged(surviving, sorted(losers), evidence))
    return graph.record_deliveries(tx, now, events, changes)
