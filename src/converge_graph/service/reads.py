"""Reads of identities shared by the API and the CLI: lookups, clusters, timelines."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from converge_graph.core import properties as props_mod
from converge_graph.core.aliases import parse_alias
from converge_graph.errors import InvalidAlias, InvalidInput, NotFound

if TYPE_CHECKING:
    from converge_graph.core.cypher import LibraryQuery
    from converge_graph.core.policy import Policy
    from converge_graph.settings import Settings
    from converge_graph.store.graph import Graph


class Reads:
    """Read use cases; mixed into :class:`converge_graph.service.Service`."""

    graph: Graph
    policy: Policy
    settings: Settings

    # -- reads ------------------------------------------------------------------------
    def library_rows(self, query: LibraryQuery, params: dict[str, Any]) -> list[dict[str, Any]]:
        """The rows of one analyst query (``cypher/queries/``), params already bound."""
        return self.graph.library_rows(query.name, query.statement, params)

    def normalise_urn(self, raw: str) -> str:
        try:
            return parse_alias(raw, self.policy, self.settings.default_region).urn
        except ValueError as exc:
            raise InvalidAlias(
                f"alias {raw!r} cannot identify anyone: {exc}", field="alias"
            ) from None

    def lookup(self, raw_urn: str) -> str:
        urn = self.normalise_urn(raw_urn)
        cluster_id = self.graph.cluster_by_alias(urn)
        if cluster_id is None:
            raise NotFound(f"no profile holds the alias {urn}", field="alias")
        return cluster_id

    def verified_lookup(self, raw_urn: str) -> dict[str, Any]:
        """The person an alias names, following only vouched evidence (trusted or signed;
        a browser's own cookie counts): what a shop may personalise a page with
        (docs/security.md#verified-reads). Claims by browsers are left out."""
        urn = self.normalise_urn(raw_urn)
        cluster_id = self.graph.cluster_by_alias(urn, verified=True)
        rows = self.graph.read_cluster(cluster_id) if cluster_id else []
        start = {r["profile"]["profile_id"] for r in rows if urn in r["vouched_aliases"]}
        if not start:
            raise NotFound(f"no profile holds the alias {urn} on verified evidence",
                           field="alias")
        neighbours: dict[str, set[str]] = {}
        for row in rows:
            for link in row["links"]:
                if link["trust"] != "claim":
                    neighbours.setdefault(link["from"], set()).add(link["to"])
                    neighbours.setdefault(link["to"], set()).add(link["from"])
        reached, pending = set(start), list(start)
        while pending:
            for other in neighbours.get(pending.pop(), ()):
                if other not in reached:
                    reached.add(other)
                    pending.append(other)
        kept = [{**r, "aliases": r["vouched_aliases"],
                 "links": [k for k in r["links"] if k["trust"] != "claim"]}
                for r in rows if r["profile"]["profile_id"] in reached]
        return self.cluster(cluster_id, kept)

    def cluster(self, cluster_id: str, rows: list[dict[str, Any]] | None = None
                ) -> dict[str, Any]:
        rows = self.graph.read_cluster(cluster_id) if rows is None else rows
        if not rows:
            raise NotFound(f"no cluster {cluster_id}", field="cluster_id")
        profiles, aliases, links, stored = [], set(), [], []
        events, firsts, lasts = 0, [], []
        for row in rows:
            profile = _profile_public(row)
            profiles.append(profile)
            stored.append((profile["properties"],
                           props_mod.loads(row["profile"]["property_ts_json"])))
            aliases.update(row["aliases"])
            links.extend(row["links"])
            events += row["events"]
            if row["first_seen"]:
                firsts.append(row["first_seen"])
            if row["last_seen"]:
                lasts.append(row["last_seen"])
        links.sort(key=lambda link: (link["created_at"], link["from"], link["to"]))
        return {
            "cluster_id": cluster_id, "profiles": profiles, "aliases": sorted(aliases),
            "links": links, "merged_properties": props_mod.merged_view(stored),
            "event_count": events, "first_seen": min(firsts, default=None),
            "last_seen": max(lasts, default=None),
        }

    def successors(self, cluster_id: str) -> list[str]:
        """Where an old cluster id lives on: the survivor of merges, or a split's parts
        (none for a live cluster or an unknown id)."""
        found: list[str] = []
        pending, seen = [cluster_id], set()
        while pending:
            cid = pending.pop(0)
            if cid in seen:
                continue
            seen.add(cid)
            node = self.graph.read_cluster_node(cid)
            if node is None:
                continue
            nxt = [node["merged_into"]] if node["merged_into"] else (node["split_into"] or [])
            if nxt:
                pending.extend(nxt)
            elif cid != cluster_id and cid not in found:
                found.append(cid)
        return found

    def merged_properties(self, cluster_id: str) -> dict[str, Any]:
        rows = self.graph.cluster_properties(cluster_id)
        return props_mod.merged_view(
            [(props_mod.loads(r["properties_json"]), props_mod.loads(r["property_ts_json"]))
             for r in rows]
        )

    def profile(self, profile_id: str) -> dict[str, Any]:
        row = self.graph.read_profile(profile_id)
        if row is None:
            raise NotFound(f"no profile {profile_id}", field="profile_id")
        return _profile_public(row)

    def event(self, event_id: str) -> dict[str, Any]:
        row = self.graph.read_event(event_id)
        if row is None:
            raise NotFound(f"no event {event_id}", field="event_id")
        cluster_id = row["cluster_id"]
        return {
            **_event_public(row), "cluster_id": cluster_id, "received_at": row["received_at"],
            "profile_properties": self.merged_properties(cluster_id) if cluster_id else {},
        }

    def events(self, cluster_id: str, limit: int, before: str | None) -> dict[str, Any]:
        before_ts, before_id = None, None
        if before:
            try:
                stamp, before_id = before.split("|", 1)
                before_ts = datetime.fromisoformat(stamp)
            except ValueError:
                before_ts = None
            if before_ts is None or before_ts.tzinfo is None or not before_id:
                raise InvalidInput(
                    "before must be the 'next' cursor of a previous page", field="before"
                )
        if self.graph.read_cluster_node(cluster_id) is None:
            raise NotFound(f"no cluster {cluster_id}", field="cluster_id")
        rows = self.graph.cluster_events(
            cluster_id=cluster_id, limit=limit + 1, before_ts=before_ts, before_id=before_id
        )
        page = rows[:limit]
        nxt = None
        if len(rows) > limit:
            last = page[-1]
            nxt = f"{last['timestamp'].isoformat()}|{last['event_id']}"
        return {"events": [_event_public(r) for r in page], "next": nxt}



def _profile_public(row: dict[str, Any]) -> dict[str, Any]:
    """A profile as the API shows it, from a row of read_cluster or read_profile."""
    p = row["profile"]
    return {
        "profile_id": p["profile_id"], "cluster_id": p["cluster_id"],
        "aliases": sorted(row["aliases"]), "properties": props_mod.loads(p["properties_json"]),
        "created_at": p["created_at"], "updated_at": p["updated_at"],
    }


def _event_public(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": row["event_id"], "event_name": row["event_name"], "method": row["method"],
        "timestamp": row["timestamp"], "properties": props_mod.loads(row["properties_json"]),
        "profile_id": row["profile_id"], "datasource": row["datasource"],
    }
