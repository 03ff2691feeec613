"""Use cases shared by the API and the CLI: ingest a write, read identities, manage sources."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from neo4j import ManagedTransaction

from converge_graph import properties as props_mod
from converge_graph.aliases import Alias, screen
from converge_graph.batch import AliasState, Delta, EventState, Neighbourhood, Overlay, Prepared
from converge_graph.errors import Forbidden, Unauthorized
from converge_graph.ids import new_id, new_secret, same_hash, secret_hash
from converge_graph.library import load_library
from converge_graph.policy import Policy
from converge_graph.reads import Reads
from converge_graph.resolver import ClusterInfo, Holder
from converge_graph.settings import Settings
from converge_graph.store.graph import Graph

SCOPES = {"read": 1, "admin": 2}
log = logging.getLogger(__name__)


@dataclass
class Write:
    """One write after parsing, whichever endpoint it came through."""

    source: dict[str, Any]
    method: str  # track | forward | set
    event_name: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    profile_properties: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None
    aliases: list[str] = field(default_factory=list)
    timestamp: datetime | None = None
    cookie_id: str | None = None  # browser writes only


def utcnow() -> datetime:
    return datetime.now(UTC)


class Service(Reads):
    def __init__(self, graph: Graph, settings: Settings, policy: Policy) -> None:
        self.graph = graph
        self.settings = settings
        self.policy = policy
        self._auth_cache: dict[str, tuple[float, dict | None]] = {}
        # Called after each committed ingest with its results and what it wrote (metrics).
        self.observers: list[Callable[[list[dict[str, Any]], Delta], None]] = []
        # The analysts' cluster query, so API links open Browser on exactly that query.
        self.browser_query = load_library(settings.cypher_dir / "queries")["browser_cluster"]

    # -- authentication ---------------------------------------------------------------
    def _cached(self, kind: str, secret: str, lookup) -> dict | None:
        digest = secret_hash(secret)
        key = f"{kind}:{digest}"
        hit = self._auth_cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        found = lookup(digest)
        stored = found and (found.get("token_hash") or found.get("key_hash"))
        if found is not None and not same_hash(stored or "", digest):
            found = None
        self._auth_cache[key] = (time.monotonic() + (30.0 if found else 2.0), found)
        return found

    def source_for_token(self, token: str | None, kind: str | None = None) -> dict:
        if not token:
            raise Unauthorized("missing datasource token: put it in the URL or X-Webhook-Token")
        source = self._cached("source", token, self.graph.find_datasource)
        if source is None:
            raise Unauthorized(
                "unknown datasource token; create one with `converge-graph sources add`"
            )
        if kind is not None and source["kind"] != kind:
            raise Forbidden(
                f"this token belongs to a {source['kind']} datasource; "
                f"use a {kind} datasource's token for this route"
            )
        return source

    def check_key(self, key: str | None, scope: str) -> None:
        if not key:
            raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        found = self._cached("key", key, self.graph.find_api_key)
        if found is None:
            raise Unauthorized("unknown API key; mint one with `converge-graph keys add`")
        if SCOPES[found["scope"]] < SCOPES[scope]:
            raise Forbidden(f"this route needs a key with scope '{scope}'")

    # -- datasources and keys ---------------------------------------------------------
    def add_source(self, name: str, kind: str) -> dict:
        token = new_secret("cvg_web" if kind == "web" else "cvg_hook")
        row = self.graph.create_datasource(
            source_id=new_id("src"), name=name, kind=kind, token_hash=secret_hash(token),
            now=utcnow(),
        )
        return {**row, "token": token}

    def add_key(self, scope: str, name: str = "") -> dict:
        key = new_secret(f"cvg_{scope}")
        self.graph.create_api_key(key_hash=secret_hash(key), scope=scope, name=name, now=utcnow())
        return {"key": key, "scope": scope}

    # -- ingestion --------------------------------------------------------------------
    def clean_event_id(self, raw: str | None) -> str | None:
        if raw is None or self.policy.block_reason("event_id", raw.strip()):
            return None
        return raw.strip()

    def prepare(self, write: Write) -> Prepared:
        """Screen one write's aliases and ids (raises InvalidAlias for a malformed URN)."""
        screened = screen(write.aliases, self.policy, self.settings.default_region)
        aliases = list(screened.accepted)
        cookie_urn = None
        if write.cookie_id is not None:
            cookie = Alias(f"urn:cookie:{write.cookie_id}", "cookie", write.cookie_id)
            cookie_urn = cookie.urn
            if cookie.urn not in screened.urns:
                aliases.append(cookie)
        stores_event = write.method != "set"
        event_id = self.clean_event_id(write.event_id) if stores_event else None
        if stores_event and event_id is None:
            event_id = new_id("evt")
        return Prepared(
            source_id=write.source["source_id"], method=write.method,
            event_name=write.event_name, properties=write.properties,
            profile_properties=write.profile_properties, aliases=sorted(aliases),
            cookie_urn=cookie_urn, event_id=event_id, ts=write.timestamp or utcnow(),
            ignored=screened.ignored,
        )

    def ingest(self, write: Write) -> dict[str, Any]:
        return self.ingest_batch([write])[0]

    def ingest_batch(self, writes: list[Write]) -> list[dict[str, Any]]:
        """Several writes in one transaction, with exactly the outcome of ingesting them
        one by one in order: a constant number of round trips, whatever the batch size."""
        return self.ingest_prepared([self.prepare(w) for w in writes])

    def ingest_prepared(self, prepared: list[Prepared]) -> list[dict[str, Any]]:
        written: list[Delta] = []

        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            now = utcnow()
            overlay = Overlay(self._neighbourhood(tx, prepared, now), self.policy, now)
            results = [overlay.apply(i, w) for i, w in enumerate(prepared)]
            delta = overlay.delta()
            self._write(tx, delta, now)
            written[:] = [delta]  # a retried transaction replaces the attempt before it
            return results

        results = self.graph.write(work)
        for observe in self.observers:
            try:
                observe(results, written[0])
            except Exception:  # the write is committed: an observer must not turn it into a 500
                log.exception("ingest observer %r failed", observe)
        return results

    def _neighbourhood(
        self, tx: ManagedTransaction, prepared: list[Prepared], now: datetime
    ) -> Neighbourhood:
        """Lock in a stable order (aliases, events, clusters) and read what the writes see:
        two round trips, whatever the batch size (three or more only under contention)."""
        aliases = sorted({a for w in prepared for a in w.aliases})
        first: dict[str, Prepared] = {}
        for w in prepared:
            if w.event_id is not None:
                first.setdefault(w.event_id, w)
        alias_rows, event_rows = self.graph.read_batch(tx, [asdict(a) for a in aliases], [
            {"event_id": eid, "fields": {
                "event_name": w.event_name, "method": w.method, "timestamp": w.ts,
                "received_at": now, "source_id": w.source_id,
                "properties_json": props_mod.dumps(w.properties)},
             "props": props_mod.event_node_properties(w.properties)}
            for eid, w in sorted(first.items())
        ], now)
        known: dict[str, tuple[str, datetime]] = {}
        for row in alias_rows.values():
            for h in row["holders"]:
                known[h["profile_id"]] = (h["cluster_id"], h["created_at"])
        for row in event_rows.values():
            if row["performer"]:
                p = row["performer"]
                known[p["profile_id"]] = (p["cluster_id"], p["created_at"])
        wants_state = any(w.profile_properties for w in prepared)
        current, clusters, urns, states = self._lock_members(
            tx, {p: c for p, (c, _) in known.items()}, now, wants_state)
        return Neighbourhood(
            aliases={urn: AliasState([h["profile_id"] for h in row["holders"]],
                                     row["quarantined"], row["link_blocked"])
                     for urn, row in alias_rows.items()},
            events={eid: EventState(
                seen=not row["created"], link_blocked=row["link_blocked"],
                performer=row["performer"]["profile_id"] if row["performer"] else None)
                for eid, row in event_rows.items()},
            profile_cluster=current,
            profile_created={p: created for p, (_, created) in known.items()},
            clusters=clusters,
            cluster_urns={c: urns.get(c, set()) for c in clusters},
            profile_state={pid: (props_mod.loads(row["properties_json"]),
                                 props_mod.loads(row["property_ts_json"]))
                           for pid, row in states.items()},
        )

    def _write(self, tx: ManagedTransaction, d: Delta, now: datetime) -> None:
        """The batch's changes in one statement: one UNWIND per kind of change."""
        self.graph.write_batch(
            tx, now, profiles=d.profiles, clusters=d.clusters, relabels=d.relabels,
            links=d.links, attachments=d.attachments, properties=d.properties,
            events=d.events, quarantined=d.quarantined, conflicts=d.conflicts,
        )

    def _lock_members(
        self, tx: ManagedTransaction, profile_cluster: dict[str, str], now: datetime,
        wants_state: bool = False,
    ) -> tuple[dict[str, str], dict[str, ClusterInfo], dict[str, set[str]], dict[str, dict]]:
        """Lock every cluster of these profiles, re-reading memberships until none moved
        (a concurrent merge may relabel a profile between our read and our lock); with
        the locks, read each cluster's limited aliases and the profiles' properties."""
        profile_ids = sorted(profile_cluster)
        wanted = set(profile_cluster.values())
        locked: dict[str, ClusterInfo] = {}
        urns: dict[str, set[str]] = {}
        states: dict[str, dict] = {}
        while True:
            need = sorted(wanted - locked.keys())
            found = self.graph.lock_clusters(
                tx, need, profile_ids, now, self.policy.unlimited_types,
                profile_ids if wants_state and not states else [],
            )
            for c in found["clusters"]:
                locked[c["cluster_id"]] = ClusterInfo(c["cluster_id"], c["size"], c["created_at"])
            urns.update(found["urns"])
            states.update(found["states"])
            current = {m["profile_id"]: m["cluster_id"] for m in found["members"]}
            wanted = set(current.values())
            if wanted <= locked.keys():
                return current, {c: locked[c] for c in wanted}, urns, states

    def _lock_clusters(
        self, tx: ManagedTransaction, holders: dict[str, list[Holder]], performer: Holder | None,
        now: datetime,
    ) -> tuple[dict[str, list[Holder]], Holder | None, dict[str, ClusterInfo]]:
        """:meth:`_lock_members` for holders as the resolver sees them."""
        everyone = [h for hs in holders.values() for h in hs] + ([performer] if performer else [])
        current, clusters, _, _ = self._lock_members(
            tx, {h.profile_id: h.cluster_id for h in everyone}, now)

        def moved(h: Holder) -> Holder:
            return Holder(h.profile_id, current[h.profile_id], h.created_at)

        holders = {urn: [moved(h) for h in hs] for urn, hs in holders.items()}
        return holders, (moved(performer) if performer else None), clusters
