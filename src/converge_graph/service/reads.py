"""Reads of identities shared by the API and the CLI: lookups, clusters, timelines."""

from __future__ import annotations

import base64
import json
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


CLUSTER_PAGE = 100


def _cursor_out(profiles: Any, links: Any) -> str:
    text = json.dumps({"p": profiles, "l": links}, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _cursor_in(cursor: str | None) -> dict[str, Any]:
    """Where the last page ended, per list: None (not started), "end", or its last key."""
    if cursor is None:
        return {"p": None, "l": None}
    try:
        found = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        for mark, size in ((found["p"], 2), (found["l"], 3)):
            if mark != "end":
                assert isinstance(mark, list) and len(mark) == size
                assert all(isinstance(x, str) for x in mark)
                assert datetime.fromisoformat(mark[0]).tzinfo is not None
        return found
    except (ValueError, KeyError, TypeError, AssertionError):
        raise InvalidInput("after must be the 'next' cursor of a previous page",
                           field="after") from None


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
        cluster_id = self.graph.cluster_by_alias(urn, self.policy.device_types)
        if cluster_id is None:
            raise NotFound(f"no profile holds the alias {urn}", field="alias")
        return cluster_id

    def lookup_cluster(self, raw_urn: str, limit: int = CLUSTER_PAGE,
                       after: str | None = None) -> dict[str, Any]:
        """The cluster holding an alias, a page of it: one query, one round trip."""
        urn = self.normalise_urn(raw_urn)
        return self._cluster(None, limit, after, urn=urn)

    def verified_lookup(self, raw_urn: str) -> dict[str, Any]:
        return self.graph.together(lambda: self._verified_lookup(raw_urn))

    def _verified_lookup(self, raw_urn: str) -> dict[str, Any]:
        """The person an alias names, following only vouched evidence (trusted or signed;
        a browser's own cookie counts): what a shop may personalise a page with
        (docs/security.md#verified-reads). Claims by browsers are left out. One page: the
        verified part of a cluster is what one person's devices make."""
        urn = self.normalise_urn(raw_urn)
        cluster_id = self.graph.cluster_by_alias(urn, self.policy.device_types, verified=True)
        rows = self.graph.read_cluster_verified(cluster_id) if cluster_id else []
        start = {r["profile"]["profile_id"] for r in rows if urn in r["vouched_aliases"]}
        if not cluster_id or not start:
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
        kept = [{**r, "aliases": r["vouched_aliases"]}
                for r in rows if r["profile"]["profile_id"] in reached]
        links = sorted((k for r in kept for k in r["links"] if k["trust"] != "claim"),
                       key=lambda k: (k["created_at"], k["from"], k["to"]))
        firsts = [r["first_seen"] for r in kept if r["first_seen"]]
        lasts = [r["last_seen"] for r in kept if r["last_seen"]]
        return {
            "cluster_id": cluster_id, "profiles": [_profile_public(r) for r in kept],
            "aliases": sorted({a for r in kept for a in r["aliases"]}), "links": links,
            "merged_properties": props_mod.merged_view([
                (props_mod.loads(r["profile"]["properties_json"]),
                 props_mod.loads(r["profile"]["property_ts_json"])) for r in kept]),
            "event_count": sum(r["events"] for r in kept),
            "first_seen": min(firsts, default=None), "last_seen": max(lasts, default=None),
            "profile_count": len(kept), "link_count": len(links), "next": None,
        }

    def cluster(self, cluster_id: str, limit: int = CLUSTER_PAGE,
                after: str | None = None) -> dict[str, Any]:
        return self._cluster(cluster_id, limit, after)

    def _cluster(self, cluster_id: str | None, limit: int, after: str | None,
                 urn: str | None = None) -> dict[str, Any]:
        """A page of a cluster (named by id, or by an alias it holds): at most ``limit``
        profiles and ``limit`` links (``next`` reads on); the totals and merged properties
        are the whole cluster's, the merged properties on the first page only (they read
        every profile: O(cluster size)). One query (cluster_page.cypher)."""
        at = _cursor_in(after)
        page = self.graph.cluster_page(
            cluster_id=cluster_id, urn=urn, device_types=self.policy.device_types,
            profile_limit=0 if at["p"] == "end" else limit + 1, after=_mark(at["p"]),
            link_limit=0 if at["l"] == "end" else limit + 1, link_after=_mark(at["l"]),
            with_properties=after is None)
        if page["cluster_id"] is None:
            raise NotFound(f"no profile holds the alias {urn}", field="alias")
        summary = page["summary"]
        if not summary["profiles"]:
            raise NotFound(f"no cluster {cluster_id}", field="cluster_id")
        profiles, more_p = page["profiles"][:limit], len(page["profiles"]) > limit
        links, more_l = page["links"][:limit], len(page["links"]) > limit
        mark_p = [profiles[-1]["profile"]["created_at"].isoformat(),
                  profiles[-1]["profile"]["profile_id"]] if more_p else "end"
        mark_l = [links[-1]["created_at"].isoformat(), links[-1]["from"],
                  links[-1]["to"]] if more_l else "end"
        return {
            "cluster_id": page["cluster_id"],
            "profiles": [_profile_public(r) for r in profiles],
            "aliases": sorted({a for r in profiles for a in r["aliases"]}), "links": links,
            "merged_properties": _merged(page["properties"]) if after is None else None,
            "event_count": summary["events"], "first_seen": summary["first_seen"],
            "last_seen": summary["last_seen"], "profile_count": summary["profiles"],
            "link_count": summary["links"],
            "next": None if (mark_p, mark_l) == ("end", "end") else _cursor_out(mark_p, mark_l),
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
        return _merged(self.graph.cluster_properties(cluster_id))

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



def _mark(mark: Any) -> list[str] | None:
    """A list's cursor as the query takes it: None to start (or when it is done)."""
    return None if mark in (None, "end") else mark


def _merged(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The merged view of profiles' stored properties (latest event time wins per key)."""
    return props_mod.merged_view(
        [(props_mod.loads(r["properties_json"]), props_mod.loads(r["property_ts_json"]))
         for r in rows])


def _profile_public(row: dict[str, Any]) -> dict[str, Any]:
    """A profile as the API shows it, from a row of cluster_page or read_profile."""
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
