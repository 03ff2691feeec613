"""Ingestion: every entry point's write takes one path (docs/identity.md#the-write-algorithm).

A batch of writes is resolved in one transaction with exactly the outcome of ingesting
them one by one in order, in a constant number of round trips whatever the batch size;
a single write is a batch of one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from converge_graph.core import properties as props_mod
from converge_graph.core.aliases import Alias, parse_alias, screen
from converge_graph.core.batch import (
    AliasState,
    Delta,
    EventState,
    Neighbourhood,
    Overlay,
    Prepared,
)
from converge_graph.core.ids import new_id
from converge_graph.core.resolver import RefusalKind
from converge_graph.core.trust import Trust, accepted_secrets, signature_ok
from converge_graph.errors import ConvergeError, InvalidInput
from converge_graph.models import CollectEvent, WebhookEvent, describe
from converge_graph.service import outbox
from converge_graph.service.sources import utcnow
from converge_graph.store.locks import lock_members

if TYPE_CHECKING:
    from converge_graph.core.policy import Policy
    from converge_graph.settings import Settings
    from converge_graph.store.graph import Graph, Tx

log = logging.getLogger(__name__)


def handed_users(row: dict[str, Any]) -> list[dict[str, Any]]:
    """Of the holders of the tokens a device handed on (as ``read_batch`` read them beside
    the device), those that can count as its last user (resolver case 6a,
    docs/identity.md#shared-devices): vouched, and later than every holder of the device."""
    if not row["handed"]:
        return []
    used = [h["last_seen"] for h in row["holders"] if h["last_seen"] is not None]
    last = max(used) if used else None
    return [h for h in row["handed"] if Trust(h["trust"]).vouched and h["last_seen"] is not None
            and (last is None or h["last_seen"] > last)]


def handed_tokens(alias_rows: dict[str, dict[str, Any]]) -> dict[str, AliasState]:
    """Those tokens' states, for the tokens the batch itself does not carry (a token it
    carries is read, and locked, as its own alias)."""
    tokens: dict[str, AliasState] = {}
    for row in alias_rows.values():
        for h in handed_users(row):
            if h["urn"] in alias_rows:
                continue
            state = tokens.setdefault(h["urn"], AliasState([], False, False))
            if h["profile_id"] not in state.holders:
                state.holders.append(h["profile_id"])
                state.trust[h["profile_id"]] = Trust(h["trust"])
                state.last_seen[h["profile_id"]] = h["last_seen"]
    return tokens


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
    signatures: dict[str, str] = field(default_factory=dict)  # urn -> HMAC hex, browser only


@dataclass(frozen=True)
class Rejection:
    """Why one item of a batch or an import file was not written (its neighbours were)."""

    field: str
    message: str
    code: str = "invalid"

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


def webhook_write(source: dict[str, Any], event: WebhookEvent) -> Write:
    return Write(
        source=source, method=event.method, event_name=event.event_name,
        properties=event.properties, profile_properties=event.profile_properties,
        event_id=event.event_id, aliases=event.aliases, timestamp=event.timestamp,
    )


def collect_write(source: dict[str, Any], event: CollectEvent, cookie_id: str) -> Write:
    """A browser call; ``consent`` is a ``set`` of the ``$consent`` profile property."""
    profile_properties = dict(event.profileProperties)
    method = event.method
    if method == "consent":
        profile_properties["$consent"] = {
            k: v for k, v in (("analytics", event.analytics), ("marketing", event.marketing))
            if v is not None}
        method = "set"
    return Write(
        source=source, method=method, event_name=event.eventName, properties=event.properties,
        profile_properties=profile_properties, event_id=event.eventID, aliases=event.aliases,
        timestamp=event.timestamp, cookie_id=cookie_id, signatures=event.signatures,
    )


class Ingest:
    """Write use cases; mixed into :class:`converge_graph.service.Service`."""

    graph: Graph
    policy: Policy
    settings: Settings
    observers: list[Callable[[list[dict[str, Any]], Delta], None]]

    # -- ingestion --------------------------------------------------------------------
    def clean_event_id(self, raw: str | None) -> str | None:
        if raw is None or self.policy.block_reason("event_id", raw.strip()):
            return None
        return raw.strip()

    def event_time(self, write: Write) -> datetime:
        """The write's event time, bounded: per key the latest event time wins, so a time
        far ahead would win forever. A browser (public token) may not claim a time after
        its request arrived; no source may claim one beyond ``max_future_seconds``."""
        now = utcnow()
        if write.timestamp is None:
            return now
        if write.source.get("kind") == "web":
            return min(write.timestamp, now)
        if write.timestamp > now + timedelta(seconds=self.settings.max_future_seconds):
            raise InvalidInput(
                f"timestamp {write.timestamp.isoformat()} is more than "
                f"{self.settings.max_future_seconds:g} seconds ahead of the server's clock; "
                "send the time the event happened", field="timestamp")
        return write.timestamp

    def check_keys(self, write: Write) -> None:
        limit = self.settings.max_property_keys
        count = len(write.properties) + len(write.profile_properties)
        if count > limit:
            browser = write.cookie_id is not None
            field = ("properties" if len(write.properties) > len(write.profile_properties)
                     else "profileProperties" if browser else "profile_properties")
            raise InvalidInput(
                f"this write has {count} property keys (properties and profile properties "
                f"together); at most {limit} are allowed — nest related values in objects",
                field=field)

    def prepare(self, write: Write) -> Prepared:
        """Screen one write's aliases and ids (raises InvalidAlias for a malformed URN)."""
        self.check_keys(write)
        ts = self.event_time(write)
        screened = screen(write.aliases, self.policy, self.settings.default_region)
        trusted = write.source.get("kind") != "web"
        alias_trust: dict[str, Trust] = {}
        aliases, ignored = [], list(screened.ignored)
        for alias in screened.accepted:
            trust = Trust.TRUSTED if trusted else self._browser_trust(write, alias)
            if trust is None:
                ignored.append({"alias": alias.urn, "kind": RefusalKind.UNSIGNED, "reason":
                                f"unsigned: a {alias.type} from the browser needs a signature "
                                "from the shop's backend (docs/security.md)"})
                continue
            alias_trust[alias.urn] = trust
            aliases.append(alias)
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
        event_keys, profile_keys = props_mod.promotable(
            write.properties, write.profile_properties, self.settings.max_promoted_keys)
        return Prepared(
            source_id=write.source["source_id"], method=write.method,
            event_name=write.event_name, properties=write.properties,
            profile_properties=write.profile_properties, aliases=sorted(aliases),
            cookie_urn=cookie_urn, event_id=event_id, ts=ts,
            ignored=ignored, trusted=trusted, alias_trust=alias_trust,
            promoted=profile_keys, event_promoted=event_keys,
        )

    def _browser_trust(self, write: Write, alias: Alias) -> Trust | None:
        """A browser alias: a claim, except that a strong id (a limit-1 type such as
        customer_id) counts only signed — or, where the source opted in, as a claim."""
        if self.policy.limit(alias.type) != 1:
            return Trust.CLAIM
        secrets = accepted_secrets(write.source, utcnow())
        for urn, signature in write.signatures.items():
            try:
                same = parse_alias(urn, self.policy, self.settings.default_region) == alias
            except (ValueError, ConvergeError):
                continue
            if same and any(signature_ok(s, urn, signature) for s in secrets):
                return Trust.SIGNED
        if alias.type in (write.source.get("accept_unsigned") or []):
            return Trust.CLAIM
        return None

    def admit(
        self, source: dict[str, Any], item: Any, where: str, default_event_id: str | None = None
    ) -> Prepared | Rejection:
        """One webhook-shaped item (of a batch, an import file) validated, its aliases
        screened once: a write ready to resolve, or why not. ``default_event_id`` stands in
        for a missing one (an import derives it from the line, so a re-run dedups)."""
        try:
            event = WebhookEvent.model_validate(item)
            write = webhook_write(source, event)
            if default_event_id and event.method != "set" and not self.clean_event_id(
                    write.event_id):
                write.event_id = default_event_id
            return self.prepare(write)
        except ValidationError as exc:
            found = describe(exc.errors()[0], where)
            return Rejection(found["field"], found["message"])
        except ConvergeError as exc:
            return Rejection(f"{where}.{exc.field or 'event'}" if where else exc.field or "event",
                             exc.message, exc.code)

    def ingest(self, write: Write) -> dict[str, Any]:
        return self.ingest_batch([write])[0]

    def ingest_batch(self, writes: list[Write]) -> list[dict[str, Any]]:
        """Several writes in one transaction, with exactly the outcome of ingesting them
        one by one in order: a constant number of round trips, whatever the batch size."""
        return self.ingest_prepared([self.prepare(w) for w in writes])

    def ingest_prepared(self, prepared: list[Prepared]) -> list[dict[str, Any]]:
        written: list[Delta] = []

        def work(tx: Tx) -> list[dict[str, Any]]:
            now = utcnow()
            neighbourhood, forwarding = self._neighbourhood(tx, prepared, now)
            overlay = Overlay(neighbourhood, self.policy, now)
            results = [overlay.apply(i, w) for i, w in enumerate(prepared)]
            delta = overlay.delta()
            self._write(tx, delta, now)
            if forwarding:  # an enabled destination exists: record the outbox rows
                delta.deliveries = outbox.record_ingest(self.graph, tx, prepared, results,
                                                        overlay, delta, now)
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
        self, tx: Tx, prepared: list[Prepared], now: datetime
    ) -> tuple[Neighbourhood, bool]:
        """Lock in a stable order (aliases, events, clusters) and read what the writes see:
        one round trip, whatever the batch size (more only when a concurrent merge moved a
        profile between reading its cluster and locking it).
        Also whether any destination is enabled (the outbox's round trip is skipped when
        none is: most installations forward nothing)."""
        aliases = sorted({a for w in prepared for a in w.aliases})
        first: dict[str, Prepared] = {}
        for w in prepared:
            if w.event_id is not None:
                first.setdefault(w.event_id, w)
        events = [
            {"event_id": eid, "timestamp": w.ts, "received_at": now, "fields": {
                "event_name": w.event_name, "method": w.method, "source_id": w.source_id,
                "properties_json": props_mod.dumps(w.properties),
                "trust": str(w.evidence_trust)},
             "props": props_mod.event_node_properties(w.properties, w.event_promoted)}
            for eid, w in sorted(first.items())
        ]
        wants_state = any(w.profile_properties for w in prepared)
        alias_rows, event_rows, forwarding, locked = self.graph.read_batch(
            tx, [{"urn": a.urn, "type": a.type, "value": a.value} for a in aliases], events, now,
            self.policy.unlimited_types, wants_state)
        known: dict[str, tuple[str, datetime]] = {}
        performed: dict[str, str] = {}  # a device session's event -> its performer
        for row in alias_rows.values():
            for h in row["holders"]:
                known[h["profile_id"]] = (h["cluster_id"], h["created_at"])
            for p in row["performers"]:
                performed[p["event_id"]] = p["profile_id"]
                known[p["profile_id"]] = (p["cluster_id"], p["created_at"])
            for h in handed_users(row):
                known[h["profile_id"]] = (h["cluster_id"], h["created_at"])
        for row in event_rows.values():
            if row["performer"]:
                p = row["performer"]
                known[p["profile_id"]] = (p["cluster_id"], p["created_at"])
        current, clusters, urns, states = lock_members(
            self.graph, tx, {p: c for p, (c, _) in known.items()}, now,
            self.policy.unlimited_types, wants_state, first=locked)
        return Neighbourhood(
            aliases={urn: AliasState([h["profile_id"] for h in row["holders"]],
                                     row["quarantined"], row["link_blocked"],
                                     {h["profile_id"]: Trust(h["trust"]) for h in row["holders"]},
                                     {h["profile_id"]: h["last_seen"] for h in row["holders"]
                                      if h["last_seen"] is not None},
                                     [e for e in row["session"] if e in performed],
                                     row["session_last"],
                                     sorted({h["urn"] for h in row["handed"]}))
                     for urn, row in alias_rows.items()} | handed_tokens(alias_rows),
            events={**{eid: EventState(True, p, False) for eid, p in performed.items()},
                    **{eid: EventState(
                seen=not row["created"], link_blocked=row["link_blocked"],
                performer=row["performer"]["profile_id"] if row["performer"] else None,
                trust=Trust(row["trust"]), shared_links=row["shared_links"],
                source_id=row["source_id"])
                for eid, row in event_rows.items()}},
            profile_cluster=current,
            profile_created={p: created for p, (_, created) in known.items()},
            clusters=clusters,
            cluster_urns={c: urns.get(c, set()) for c in clusters},
            profile_state={pid: (props_mod.loads(row["properties_json"]),
                                 props_mod.loads(row["property_ts_json"]))
                           for pid, row in states.items()},
        ), forwarding

    def _write(self, tx: Tx, d: Delta, now: datetime) -> None:
        """The batch's changes in one statement: one UNWIND per kind of change."""
        self.graph.write_batch(
            tx, now, profiles=d.profiles, clusters=d.clusters, relabels=d.relabels,
            links=d.links, attachments=d.attachments, properties=d.properties,
            events=d.events, quarantined=d.quarantined, conflicts=d.conflicts,
            sessions=d.sessions, moves=d.moves, handoffs=d.handoffs,
        )

