"""The only module that runs queries: one method per ``cypher/*.cypher`` file.

Driver errors become :mod:`converge_graph.errors` here and nowhere else. Write-path
methods take a managed transaction (``tx``) so a use case can compose them inside
one ``execute_write`` that the driver may retry; they are idempotent on retry
because a retried transaction starts again from a rolled-back state.

The write path's statements take their lists inside one map parameter (``d``): Neo4j's
plan cache key holds each list parameter's emptiness and length bucket, so separate
lists made nearly every batch shape a new plan of a large statement (seconds of server
CPU each); a map's contents are not part of the key, so each statement is planned once.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import neo4j
from neo4j import GraphDatabase, ManagedTransaction
from neo4j.exceptions import (
    AuthError,
    BrokenRecordError,
    ClientError,
    ConnectionPoolError,
    DriverError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from converge_graph.core.policy import DEVICE_TYPES
from converge_graph.errors import DatabaseUnavailable, InvalidInput
from converge_graph.settings import Settings
from converge_graph.store.queries import Q, Queries
from converge_graph.store.schema import schema_names, schema_statements
from converge_graph.store.values import native, plain, when, wire

T = TypeVar("T")
Tx = ManagedTransaction  # what use cases pass back into the write-path methods


# "Not reachable, or not known to have committed": each is a 503 with Retry-After, never a
# 500. ServiceUnavailable includes IncompleteCommit, whose outcome is unknown: the client
# retries with the same event_id and deduplication makes that safe. TransientError covers
# the server's DatabaseUnavailable, NotALeader and lock timeouts left after the driver's
# own retries; ConnectionPoolError covers connection-acquisition timeouts.
UNAVAILABLE = (ServiceUnavailable, SessionExpired, TransientError, ConnectionPoolError,
               BrokenRecordError, OSError)


def connect(settings: Settings) -> neo4j.Driver:
    """One driver per process."""
    return GraphDatabase.driver(
        settings.neo4j_uri,
        auth=settings.neo4j_auth,
        max_connection_pool_size=64,
        connection_acquisition_timeout=10.0,
        max_transaction_retry_time=settings.neo4j_retry_seconds,
        notifications_min_severity="OFF",
    )


@contextlib.contextmanager
def translated() -> Iterator[None]:
    try:
        yield
    except AuthError as exc:
        raise DatabaseUnavailable(f"Neo4j refused our credentials: {exc.message}") from exc
    except UNAVAILABLE as exc:
        raise DatabaseUnavailable(f"Neo4j is unreachable: {exc}") from exc
    except (Neo4jError, DriverError) as exc:
        if not exc.is_retryable():  # a query or client bug: let it surface as one
            raise
        raise DatabaseUnavailable(f"Neo4j could not complete the request: {exc}") from exc


def _decoded(record: neo4j.Record) -> dict[str, Any]:
    return dict(zip(record.keys(), record.values(), strict=True))


class Graph:
    def __init__(self, driver: neo4j.Driver, settings: Settings) -> None:
        self.driver = driver
        self.database = settings.neo4j_database
        self.schema_path = settings.cypher_dir / "schema.cypher"
        self.q = Queries(settings.cypher_dir)
        self._reading = threading.local()  # the transaction of :meth:`together`, per thread

    # -- plumbing ---------------------------------------------------------------------
    def close(self) -> None:
        self.driver.close()

    def write(self, work: Callable[[ManagedTransaction], T]) -> T:
        with translated(), self.driver.session(database=self.database) as session:
            return session.execute_write(work)

    def read(self, work: Callable[[ManagedTransaction], T]) -> T:
        with translated(), self.driver.session(database=self.database) as session:
            return session.execute_read(work)

    def together(self, use: Callable[[], T]) -> T:
        """``use()`` with every read method it calls run in one read transaction: one
        session and one snapshot instead of one of each per query (a verified lookup reads
        two). The driver may retry ``use`` whole; reads are safe to repeat."""
        if getattr(self._reading, "tx", None) is not None:
            return use()

        def work(tx: ManagedTransaction) -> T:
            self._reading.tx = tx
            try:
                return use()
            finally:
                self._reading.tx = None

        return self.read(work)

    def _rows(self, query: str, **params: Any) -> list[dict[str, Any]]:
        tx = getattr(self._reading, "tx", None)
        if tx is not None:
            return [native(r.data()) for r in tx.run(query, params)]
        return [native(row) for row in self._auto_read(query, params, neo4j.Record.data)]

    def _decoded_rows(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """:meth:`_rows` of a statement that returns only text, numbers, booleans, lists and
        maps (times as text): its values as the driver decoded them, not walked again
        (``record.data()`` and :func:`native` were a third of a lookup's CPU)."""
        tx = getattr(self._reading, "tx", None)
        if tx is not None:
            return [_decoded(r) for r in tx.run(query, params)]
        return self._auto_read(query, params, _decoded)

    def _auto_read(self, query: str, params: dict[str, Any],
                   row: Callable[[neo4j.Record], dict[str, Any]]) -> list[dict[str, Any]]:
        """One read statement as an auto-commit query in a read session: routed to readers
        like ``execute_read``, one round trip instead of two (no BEGIN/COMMIT), about a
        third less driver CPU (benchmarks/README.md). A statement cut off by a failover is
        a 503 with Retry-After (the client asks again) rather than retried here."""
        with translated(), self.driver.session(
                database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
            return [row(r) for r in session.run(query, params)]

    def _write_rows(self, query: str, **params: Any) -> list[dict[str, Any]]:
        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            return [native(r.data()) for r in tx.run(query, params)]

        return self.write(work)

    # -- schema and health ------------------------------------------------------------
    def apply_schema(self) -> int:
        statements = schema_statements(self.schema_path)
        with translated(), self.driver.session(database=self.database) as session:
            for statement in statements:
                session.run(statement).consume()
        return len(statements)

    def missing_schema(self) -> set[str]:
        present = {r["name"] for r in self._rows(self.q[Q.readiness])}
        index_rows = self._rows(self.q[Q.show_indexes])
        present |= {r["name"] for r in index_rows}
        return schema_names(self.schema_path) - present

    # -- write path (inside one transaction) ------------------------------------------
    def read_batch(
        self, tx: ManagedTransaction, aliases: list[dict], events: list[dict], now: datetime,
        unlimited: list[str], state: bool,
    ) -> tuple[dict[str, dict], dict[str, dict], bool, dict[str, Any]]:
        """Lock the aliases, store new events: per urn ``holders``, ``quarantined``,
        ``link_blocked``, a device's ``session``, ``session_last`` and the
        ``performers`` of its session's events, the
        holders of the tokens it handed on (``handed``); per event id ``created``,
        ``link_blocked``, ``performer``; whether any destination is enabled; and, locked
        in the same statement, the clusters of every profile read, as
        :meth:`lock_clusters` returns them."""
        record = tx.run(self.q[Q.read_batch], now=now.isoformat(), d={
            "aliases": aliases, "events": wire(events), "unlimited": unlimited, "state": state,
        }).single(strict=True)
        for alias in record["aliases"]:
            for holder in alias["holders"]:
                holder["created_at"] = when(holder["created_at"])
                holder["last_seen"] = when(holder["last_seen"])
            alias["session_last"] = when(alias["session_last"])
            for performer in alias["performers"]:
                performer["created_at"] = when(performer["created_at"])
            for user in alias["handed"]:
                user["created_at"] = when(user["created_at"])
                user["last_seen"] = when(user["last_seen"])
        for event in record["events"]:
            if event["performer"] is not None:
                event["performer"]["created_at"] = when(event["performer"]["created_at"])
        return ({a["urn"]: a for a in record["aliases"]},
                {e["event_id"]: e for e in record["events"]}, record["forwarding"],
                _locked(record["locked"]))

    def lock_clusters(
        self, tx: ManagedTransaction, cluster_ids: list[str], profile_ids: list[str],
        now: datetime, unlimited: list[str] | None = None, state_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """Lock clusters; return ``clusters``, ``members``, and under the same locks the
        limited aliases each cluster holds (``urns``), whether vouched evidence
        ``established`` it, and profile property ``states``."""
        return _locked(tx.run(self.q[Q.lock_clusters], now=now.isoformat(), d={
            "cluster_ids": cluster_ids, "profile_ids": profile_ids,
            "unlimited": unlimited or [], "state_ids": state_ids or [],
        }).single(strict=True))

    def write_batch(self, tx: ManagedTransaction, now: datetime, **rows: list) -> None:
        """Everything one batch changes, in one statement (see write_batch.cypher)."""
        tx.run(self.q[Q.write_batch], now=now.isoformat(), d=wire(rows)).consume()

    def list_conflicts(self, limit: int) -> list[dict]:
        return self._rows(self.q[Q.list_conflicts], limit=limit)

    def link_profiles(self, tx: ManagedTransaction, links: list[dict], now: datetime) -> None:
        if links:
            tx.run(self.q[Q.link_profiles], links=links, now=now).consume()

    def merge_clusters(
        self, tx: ManagedTransaction, winner: str, losers: list[str], now: datetime
    ) -> None:
        if losers:
            tx.run(self.q[Q.merge_clusters], winner=winner, losers=losers, now=now).consume()

    # -- repairs: unmerge, split, erase (inside one transaction) ----------------------
    def tx_rows(self, tx: ManagedTransaction, name: Q, **params: Any) -> list[dict]:
        return [native(r.data()) for r in tx.run(self.q[name], params)]

    def cluster_type_counts(self, unlimited: list[str], min_count: int) -> list[dict]:
        return self._rows(self.q[Q.cluster_type_counts], unlimited=unlimited, min_count=min_count)

    def count_same_as(self) -> int:
        return self._rows(self.q[Q.count_same_as])[0]["links"]

    def cluster_profile_ids(self, cluster_id: str) -> set[str]:
        return {r["profile_id"] for r in self._rows(self.q[Q.cluster_graph], cluster_id=cluster_id)}

    def cluster_links(self, cluster_id: str) -> list[dict]:
        return self._rows(self.q[Q.cluster_links], cluster_id=cluster_id)

    def handovers_between(self, cluster_a: str, cluster_b: str) -> list[dict]:
        return self._rows(self.q[Q.handovers_between], cluster_a=cluster_a, cluster_b=cluster_b)

    def clusters_joined_by_device(self, device_types: list[str], handover_types: list[str]
                                  ) -> list[dict]:
        return self._rows(self.q[Q.clusters_joined_by_device], device_types=device_types,
                          handover_types=handover_types)

    # -- datasources and keys ---------------------------------------------------------
    def create_datasource(self, **params: Any) -> dict:
        return self._write_rows(self.q[Q.create_datasource], **params)[0]

    def find_datasource(self, token_hash: str) -> dict | None:
        rows = self._rows(self.q[Q.find_datasource], token_hash=token_hash)
        return rows[0] if rows else None

    def find_datasource_by_name(self, name: str) -> list[dict]:
        return self._rows(self.q[Q.find_datasource_by_name], name=name)

    def set_datasource_origins(self, source_id: str, origins: list[str] | None) -> dict | None:
        rows = self._write_rows(self.q[Q.set_datasource_origins], source_id=source_id,
                                origins=origins)
        return rows[0] if rows else None

    def rotate_signing_secret(self, source_id: str, secret: str,
                              previous_until: datetime | None, now: datetime) -> dict | None:
        rows = self._write_rows(self.q[Q.rotate_signing_secret], source_id=source_id,
                                secret=secret, previous_until=previous_until, now=now)
        return rows[0] if rows else None

    def list_datasources(self) -> list[dict]:
        return self._rows(self.q[Q.list_datasources])

    def create_api_key(self, **params: Any) -> None:
        self._write_rows(self.q[Q.create_api_key], **params)

    def find_api_key(self, key_hash: str) -> dict | None:
        rows = self._rows(self.q[Q.find_api_key], key_hash=key_hash)
        return rows[0] if rows else None

    # -- destinations and deliveries --------------------------------------------------
    def create_destination(self, **params: Any) -> dict:
        return self._write_rows(self.q[Q.create_destination], **params)[0]["destination"]

    def list_destinations(self) -> list[dict]:
        return self._rows(self.q[Q.list_destinations])

    def set_destination_enabled(self, name: str, enabled: bool) -> bool:
        return bool(self._write_rows(self.q[Q.set_destination_enabled], name=name,
                                     enabled=enabled))

    def remove_destination(self, name: str) -> dict | None:
        rows = self._write_rows(self.q[Q.remove_destination], name=name)
        return rows[0] if rows else None

    def record_deliveries(self, tx: ManagedTransaction, now: datetime, events: list[dict],
                          changes: list[dict]) -> int:
        """The outbox rows of one write, in the write's own transaction; how many."""
        if not events and not changes:
            return 0
        record = tx.run(self.q[Q.record_deliveries], now=now.isoformat(),
                        d={"events": events, "changes": changes}).single(strict=True)
        return record["events"] + record["changes"]

    def claim_deliveries(self, now: datetime, limit: int, lease: str,
                         lease_until: datetime) -> tuple[int, list[dict]]:
        """Lease up to ``limit`` due deliveries to one worker, in one transaction: read the
        oldest due candidates (four times ``limit``, of which a random ``limit``, so that
        workers seldom want the same ones), lock them in id order, then claim those still
        unleased under the lock (a separate statement, so it reads what a concurrent
        claim committed). Returns how many were due, and the claimed."""
        def work(tx: ManagedTransaction) -> tuple[int, list[dict]]:
            due = [r["delivery_id"] for r in tx.run(self.q[Q.due_deliveries], now=now,
                                                    limit=4 * limit)]
            ids = sorted(random.sample(due, min(limit, len(due))))
            if not ids:
                return 0, []
            tx.run(self.q[Q.lock_deliveries], ids=ids, lease=lease).consume()
            return len(due), [native(r.data()) for r in tx.run(
                self.q[Q.claim_deliveries], ids=ids, now=now, lease=lease,
                lease_until=lease_until)]

        return self.write(work)

    def finish_deliveries(self, lease: str, now: datetime, rows: list[dict]) -> set[str]:
        """Record a claim's outcomes in one transaction; the ids whose lease was kept."""
        if not rows:
            return set()
        return {r["delivery_id"] for r in self._write_rows(
            self.q[Q.finish_deliveries], lease=lease, now=now, rows=rows)}

    def list_deliveries(self, destination: str | None, status: str | None,
                        limit: int) -> list[dict]:
        return self._rows(self.q[Q.list_deliveries], destination=destination, status=status,
                          limit=limit)

    def retry_deliveries(self, **params: Any) -> int:
        return self._write_rows(self.q[Q.retry_deliveries], **params)[0]["retried"]

    def delivery_counts(self) -> dict[str, int]:
        return {r["status"]: r["n"] for r in self._rows(self.q[Q.delivery_counts])}

    # -- reads ------------------------------------------------------------------------
    def cluster_by_alias(self, urn: str, device_types: Sequence[str] = DEVICE_TYPES,
                         verified: bool = False) -> str | None:
        """``device_types``: the policy's (a device answers its last user's cluster)."""
        rows = self._rows(self.q[Q.cluster_by_alias], urn=urn, verified=verified,
                          device_types=list(device_types))
        return rows[0]["cluster_id"] if rows else None

    def cluster_page(
        self, *, cluster_id: str | None = None, urn: str | None = None,
        device_types: Sequence[str], profile_limit: int, after: list[str] | None,
        link_limit: int, link_after: list[str] | None, with_properties: bool,
    ) -> dict[str, Any]:
        """A page of a cluster named by id or by an alias (see cluster_page.cypher); the
        cursors are the last page's keys, times as ISO-8601 text."""
        created, pid = after or (None, None)
        l_created, l_from, l_to = link_after or (None, None, None)

        page = self._decoded_rows(self.q[Q.cluster_page], cluster_id=cluster_id, urn=urn,
                          device_types=list(device_types), profile_limit=profile_limit,
                          after_created=created, after_id=pid, link_limit=link_limit,
                          link_after_created=l_created, link_after_from=l_from,
                          link_after_to=l_to, with_properties=with_properties)[0]
        summary = page["summary"]
        summary["first_seen"] = when(summary["first_seen"])
        summary["last_seen"] = when(summary["last_seen"])
        for row in page["profiles"]:
            row["profile"]["created_at"] = when(row["profile"]["created_at"])
            row["profile"]["updated_at"] = when(row["profile"]["updated_at"])
        for link in page["links"]:
            link["created_at"] = when(link["created_at"])
        return page

    def read_cluster_verified(self, cluster_id: str) -> list[dict]:
        return self._rows(self.q[Q.read_cluster_verified], cluster_id=cluster_id)

    def read_cluster_node(self, cluster_id: str) -> dict | None:
        rows = self._rows(self.q[Q.read_cluster_node], cluster_id=cluster_id)
        return rows[0] if rows else None

    def cluster_events(self, **params: Any) -> list[dict]:
        return self._rows(self.q[Q.cluster_events], **params)

    def read_profile(self, profile_id: str) -> dict | None:
        rows = self._rows(self.q[Q.read_profile], profile_id=profile_id)
        return rows[0] if rows else None

    def read_event(self, event_id: str) -> dict | None:
        rows = self._rows(self.q[Q.read_event], event_id=event_id)
        return rows[0] if rows else None

    def cluster_properties(self, cluster_id: str) -> list[dict]:
        return self._rows(self.q[Q.cluster_properties], cluster_id=cluster_id)

    def library_rows(self, name: str, statement: str, params: dict[str, Any]) -> list[dict]:
        """The rows of one analyst query, in a read transaction (routable to a secondary)."""
        with translated():
            try:
                records, _, _ = self.driver.execute_query(
                    statement, dict(params), database_=self.database,
                    routing_=neo4j.RoutingControl.READ,
                )
            except ClientError as exc:
                raise InvalidInput(f"{name}: Neo4j refused it: {exc.message}") from exc
        return [{key: plain(value) for key, value in record.items()} for record in records]

    # -- verification (streamed, constant memory per row) -----------------------------
    def stream(self, query_name: Q) -> Iterator[dict]:
        """Rows one by one, in a read session (a cluster routes it to a secondary)."""
        with translated(), self.driver.session(
                database=self.database, default_access_mode=neo4j.READ_ACCESS) as session:
            for record in session.run(self.q[query_name]):
                yield record.data()


def _locked(found: Any) -> dict[str, Any]:
    """What a cluster lock read (lock_clusters.cypher, or read_batch.cypher's ``locked``)."""
    return {
        "clusters": [{**c, "created_at": when(c["created_at"])} for c in found["clusters"]],
        "members": found["members"],
        "urns": {r["cluster_id"]: set(r["urns"]) for r in found["urns"]},
        "established": {r["cluster_id"]: r["established"] for r in found["urns"]},
        "states": {r["profile_id"]: r for r in found["states"]},
    }
