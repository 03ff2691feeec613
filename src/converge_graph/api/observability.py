"""Observability: Prometheus metrics at ``/metrics``, one JSON log line per request, and a
request id echoed in ``X-Request-ID``.

Metrics (one registry per app, so several apps in one process never collide):

    events_ingested_total           events stored (first write of an event_id)
    duplicates_total                writes whose event_id was already stored
    merges_total                    SAME_AS links created
    refused_merges_total            aliases dropped by a per-type limit ('limit:<type>')
    quarantined_aliases_total       aliases put in quarantine (hubs)
    cors_refused_total              browser calls refused: Origin not allowed by the web
                                    datasource (preflight or POST; api/cors.py)
    neo4j_errors_total{cause}       requests that failed because Neo4j was unreachable or
                                    did not commit (answered 503), by driver exception
    http_request_duration_seconds   latency histogram by method, route template, status

The ingest counters are fed from committed writes only, through ``Service.observers``, so
a write the database refused is never counted. Labels carry route templates
(``/v1/webhook/{token}``), never the path itself: tokens stay out of metrics and logs.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from converge_graph.api import errors
from converge_graph.core.batch import CONFLICT_KINDS, Delta
from converge_graph.core.resolver import RefusalKind
from converge_graph.errors import DatabaseUnavailable
from converge_graph.service import Service

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                   10.0, 30.0)

request_id_var: ContextVar[str | None] = ContextVar("cvg_request_id", default=None)
access_log = logging.getLogger("converge_graph.access")
trust_log = logging.getLogger("converge_graph.trust")
TRUST_KINDS = ("unsigned_alias", "refused_bridge", "event_hub")


class Metrics:
    """The app's metrics, in its own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events_ingested = Counter("events_ingested", "Events stored (first write of "
                                       "an event_id)", registry=r)
        self.duplicates = Counter("duplicates", "Writes whose event_id was already stored",
                                  registry=r)
        self.merges = Counter("merges", "SAME_AS links created", registry=r)
        self.refused_merges = Counter("refused_merges", "Aliases dropped by a per-type "
                                      "limit instead of merging", registry=r)
        self.quarantined_aliases = Counter("quarantined_aliases", "Aliases put in "
                                           "quarantine as hubs", registry=r)
        self.trust_refusals = Counter("trust_refusals", "Browser evidence refused by the "
                                      "trust model (docs/security.md): unsigned_alias, "
                                      "refused_bridge, event_hub", ["kind"], registry=r)
        self.cors_refused = Counter("cors_refused", "Browser calls refused because their "
                                    "Origin is not allowed by the web datasource", registry=r)
        self.neo4j_errors = Counter("neo4j_errors", "Requests that failed because Neo4j "
                                    "was unreachable or did not commit", ["cause"], registry=r)
        self.latency = Histogram("http_request_duration_seconds", "Request latency",
                                 ["method", "route", "status"], buckets=LATENCY_BUCKETS,
                                 registry=r)
        self.deliveries = Gauge("deliveries", "Deliveries in Neo4j by status", ["status"],
                                registry=r)
        self.delivery_attempts = Counter("delivery_attempts", "Delivery attempts by "
                                         "outcome", ["status"], registry=r)
        self.delivery_latency = Histogram("delivery_latency_seconds", "From recording a "
                                          "delivery to the receiver's 2xx",
                                          buckets=LATENCY_BUCKETS + (60.0, 300.0, 3600.0),
                                          registry=r)

    def observe_delivery(self, attempt: dict[str, Any]) -> None:
        """A ``Deliverer`` observer: one call per attempt (or skip)."""
        status = "retried" if attempt["status"] == "failed" else attempt["status"]
        self.delivery_attempts.labels(status).inc()
        if attempt["latency"] is not None:
            self.delivery_latency.observe(attempt["latency"])

    def count_deliveries(self, counts: dict[str, int]) -> None:
        for status in ("pending", "failed", "delivered", "dead", "skipped"):
            self.deliveries.labels(status).set(counts.get(status, 0))

    def observe_ingest(self, results: list[dict[str, Any]], delta: Delta) -> None:
        """A ``Service`` observer: called once per committed ingest transaction."""
        stored = sum(1 for r in results if r["event_id"] is not None and not r["deduplicated"])
        duplicates = sum(1 for r in results if r["deduplicated"])
        refused = sum(1 for c in delta.conflicts
                      if c["kind"] == CONFLICT_KINDS[RefusalKind.LIMIT])
        self.events_ingested.inc(stored)
        self.duplicates.inc(duplicates)
        self.merges.inc(len(delta.links))
        self.refused_merges.inc(refused)
        self.quarantined_aliases.inc(len(delta.quarantined))
        for conflict in delta.conflicts:
            if conflict["kind"] in TRUST_KINDS:
                self.trust_refusals.labels(conflict["kind"]).inc()
                trust_log.warning("trust refusal", extra={
                    "kind": conflict["kind"], "alias": conflict["alias"],
                    "source_id": conflict["source_id"], "event_id": conflict["event_id"]})

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and any ``extra`` fields."""

    RESERVED = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message"}

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(), "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id is not None:
            line["request_id"] = request_id
        line.update({k: v for k, v in vars(record).items() if k not in self.RESERVED})
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property  # type: ignore[override]
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


class RouteTemplates:
    """The route template of a request, for labels and logs.

    Routed requests carry their route in the scope. Requests refused before routing (413,
    429, a duplicate key) get the template of the route they would have reached. Unknown
    paths share one label, so that scanners cannot grow the metrics without bound.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self._table: list[tuple[re.Pattern, set[str] | None, str]] | None = None

    def table(self) -> list[tuple[re.Pattern, set[str] | None, str]]:
        if self._table is None:
            try:  # FastAPI >= 0.16x keeps included routers whole; this lists their routes
                from fastapi.routing import iter_route_contexts

                routes: list[Any] = list(iter_route_contexts(self.app.routes))
            except ImportError:
                routes = list(self.app.routes)
            self._table = [(compile_path(r.path)[0], getattr(r, "methods", None), r.path)
                           for r in routes if getattr(r, "path", None)]
        return self._table

    def __call__(self, scope: Scope) -> str:
        route = scope.get("route")
        if getattr(route, "path", None):
            return route.path
        for regex, methods, template in self.table():
            if regex.match(scope["path"]) and (not methods or scope["method"] in methods):
                return template
        return "unmatched"


class Observe:
    """Pure ASGI: request id in and out, latency histogram, one access log line."""

    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI, metrics: Metrics) -> None:
        self.app = app
        self.route_template = RouteTemplates(fastapi_app)
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope.get("headers", []):
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                request_id = candidate if REQUEST_ID_RE.match(candidate) else None
                break
        request_id = request_id or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        status = 500  # if the app raises before answering, the server answers 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = self.route_template(scope)
            self.metrics.latency.labels(scope["method"], route, str(status)).observe(elapsed)
            access_log.info("request", extra={
                "method": scope["method"], "path": route, "status": status,
                "duration_ms": round(elapsed * 1000, 2), "request_id": request_id,
            })
            request_id_var.reset(token)


def configure_logging() -> None:
    """JSON lines on stderr for the service's loggers, once per process."""
    root = logging.getLogger("converge_graph")
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False


def install(app: FastAPI) -> None:
    """Metrics route, request ids, access log and the ingest observer, for this app."""
    metrics = Metrics()
    app.state.metrics = metrics
    configure_logging()

    @app.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        try:
            metrics.count_deliveries(app.state.service.delivery_counts())
        except DatabaseUnavailable:  # the other metrics still answer; the counts wait
            pass
        return Response(metrics.exposition(), media_type=CONTENT_TYPE_LATEST)

    async def unavailable(request: Request, exc: DatabaseUnavailable):
        cause = exc.__cause__
        metrics.neo4j_errors.labels(type(cause).__name__ if cause else "unknown").inc()
        return await errors.converge_handler(request, exc)

    app.add_exception_handler(DatabaseUnavailable, unavailable)

    app.add_middleware(Observe, fastapi_app=app, metrics=metrics)


def attach(app: FastAPI, service: Service) -> None:
    """At start-up, once the service exists: count what each ingest committed, and let our
    access line replace uvicorn's, which would log datasource tokens in URLs."""
    service.observers.append(app.state.metrics.observe_ingest)
    logging.getLogger("uvicorn.access").disabled = True
