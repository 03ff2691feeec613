"""Segment's HTTP Tracking API: the analytics clients teams already run, unchanged
(docs/segment.md).

Server libraries (``/v1/batch``, ``/v1/track`` …) authenticate with a webhook
datasource's token as their write key; analytics.js (``/v1/t``, ``/v1/b`` …, the
settings route) with a web datasource's public token, never the webhook secret. Every
message goes through the one input pipeline: ``service.segment_writes`` maps it to a
``Write``, ``prepare`` screens it, ``ingest_prepared`` resolves and commits it.
"""

from __future__ import annotations

import hashlib
import logging
import math
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from prometheus_client import Counter
from starlette.concurrency import run_in_threadpool

from converge_graph.api import segment_cors
from converge_graph.api.deps import source_for_token
from converge_graph.api.errors import ERRORS, RETRY_AFTER_SECONDS
from converge_graph.api.segment_body import (
    GZIP_SLACK,
    SegmentError,
    decode,
    parse,
    read_raw,
    too_large,
    write_key,
)
from converge_graph.core.batch import Prepared
from converge_graph.errors import ConvergeError, DatabaseUnavailable, Forbidden, Unauthorized
from converge_graph.models import ErrorBody
from converge_graph.service import Service
from converge_graph.service.ingest import Rejection, Write
from converge_graph.service.segment import message_size
from converge_graph.service.sources import utcnow

log = logging.getLogger(__name__)
router = APIRouter(tags=["segment"])

MESSAGE_BYTES = 32 * 1024
BATCH_BYTES = 500 * 1024
BATCH_MESSAGES = 2500
SERVER_ROUTES = {f"/v1/{t}": t for t in ("identify", "track", "page", "screen", "group",
                                          "alias")}
WEB_ROUTES = {f"/v1/{t[0]}": t for t in SERVER_ROUTES.values()}
BATCH_ROUTES = {"/v1/batch": "webhook", "/v1/import": "webhook", "/v1/b": "web"}
METRICS_ROUTE = "/v1/m"
SETTINGS_PREFIX, SETTINGS_SUFFIX = "/v1/projects/", "/settings"
PATHS = frozenset({*SERVER_ROUTES, *WEB_ROUTES, *BATCH_ROUTES, METRICS_ROUTE})


def is_web_path(path: str) -> bool:
    """The routes analytics.js calls from pages: they answer CORS preflights."""
    return path in WEB_ROUTES or path in ("/v1/b", METRICS_ROUTE) or (
        path.startswith(SETTINGS_PREFIX) and path.endswith(SETTINGS_SUFFIX))


def _answer(request: Request, status: int, body: dict[str, Any],
            source: dict[str, Any] | None = None, extra: dict[str, str] | None = None
            ) -> JSONResponse:
    headers = dict(extra or {})
    if is_web_path(request.url.path):
        headers.update(segment_cors.headers(source, request.headers.get("origin")))
    return JSONResponse(body, status_code=status, headers=headers)


def _refusal(request: Request, exc: SegmentError) -> JSONResponse:
    info = {"code": exc.code, "message": exc.message}
    if exc.field:
        info["field"] = exc.field
    extra = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
    return _answer(request, exc.status, {"success": False, **info, "error": info},
                   extra=extra)


def _rejected_counter(app: FastAPI) -> Counter:
    counter = getattr(app.state, "segment_rejected", None)
    if counter is None:
        counter = Counter("segment_rejected_messages", "Segment messages dropped from an "
                          "accepted request, by reason", ["code"],
                          registry=app.state.metrics.registry)
        app.state.segment_rejected = counter
    return counter


async def _source(request: Request, service: Service, key: str, kind: str) -> dict[str, Any]:
    buckets = getattr(request.app.state, "rate_limits", None)
    if buckets is not None:
        wait = buckets.take(hashlib.sha256(key.encode()).hexdigest())
        if wait > 0:
            retry = max(1, math.ceil(wait))
            raise SegmentError(429, "rate_limited", f"too many requests for this write key; "
                               f"retry after {retry} s", field="writeKey", retry_after=retry)
    try:
        source = await source_for_token(service, key, kind)
    except (Unauthorized, Forbidden) as exc:
        which = "server library (webhook)" if kind == "webhook" else "analytics.js (web)"
        detail = "unknown write key" if isinstance(exc, Unauthorized) else \
            "this write key belongs to the other kind of datasource"
        raise SegmentError(401, "unauthorized", f"{detail}: this route takes a {which} "
                           "datasource's token as its write key", field="writeKey") from None
    origin = request.headers.get("origin")
    if kind == "web" and origin and not segment_cors.allowed(source, origin):
        raise SegmentError(403, "origin_not_allowed", f"Origin {origin} may not use datasource "
                           f"{source['name']!r}; allow it with `converge-graph sources "
                           f"origins {source['name']} --add {origin}`", field="Origin")
    return source


def _messages(body: dict[str, Any], route_type: str | None) -> list[Any]:
    """The request's messages, batch-level ``context`` and ``sentAt`` merged into each."""
    if route_type is not None:
        message = {k: v for k, v in body.items() if k != "writeKey"}
        message["type"] = route_type
        if message_size(message) > MESSAGE_BYTES:
            raise too_large(MESSAGE_BYTES, "the message")
        return [message]
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise SegmentError(400, "invalid", "a batch body needs 'batch', a list of messages "
                           "each with a 'type'", field="batch")
    if len(batch) > BATCH_MESSAGES:
        raise SegmentError(413, "too_large", f"batch has {len(batch)} messages; at most "
                           f"{BATCH_MESSAGES} per request: split it", field="batch")
    shared = body.get("context") if isinstance(body.get("context"), dict) else {}
    sent_at = body.get("sentAt")
    out = []
    for item in batch:
        if isinstance(item, dict):
            item = dict(item)
            if shared or "context" in item:
                own = item.get("context")
                item["context"] = {**shared, **own} if isinstance(own, dict) else \
                    (own if own is not None else dict(shared))
            if sent_at is not None and "sentAt" not in item:
                item["sentAt"] = sent_at
        out.append(item)
    return out


def _admit(service: Service, messages: list[Any], writes: list[Write | Rejection],
           batch: bool) -> tuple[list[Prepared], list[dict[str, Any]]]:
    """Writes screened by the pipeline, and the messages dropped (with their index)."""
    ready: list[Prepared] = []
    rejected: list[dict[str, Any]] = []
    for index, (message, write) in enumerate(zip(messages, writes, strict=True)):
        if not isinstance(write, Rejection) and message_size(message) > MESSAGE_BYTES:
            write = Rejection("message", f"the message is larger than "
                              f"{MESSAGE_BYTES // 1024} KB; send less context", "too_large")
        if not isinstance(write, Rejection):
            try:
                ready.append(service.prepare(write))
                continue
            except ConvergeError as exc:
                write = Rejection(exc.field or "message", exc.message, exc.code)
        where = f"batch[{index}]." if batch else ""
        rejected.append({**write.to_dict(), "index": index, "field": f"{where}{write.field}"})
    return ready, rejected


async def _ingest(request: Request, kind: str, route_type: str | None) -> JSONResponse:
    service: Service = request.app.state.service
    source = None
    try:
        limit = MESSAGE_BYTES if route_type else BATCH_BYTES
        raw = await read_raw(request, limit + limit // 100 + GZIP_SLACK)
        body = parse(decode(request, raw, limit))
        key = write_key(request, body)
        source = await _source(request, service, key, kind)
        messages = _messages(body, route_type)
        received_at = utcnow()
        writes = await run_in_threadpool(service.segment_writes, source, messages,
                                         received_at)
        ready, rejected = _admit(service, messages, writes, route_type is None)
        if rejected:
            counter = _rejected_counter(request.app)
            for item in rejected:
                counter.labels(item["code"]).inc()
        if messages and not ready:  # nothing in it can ever be stored: do not retry
            first = rejected[0]
            big = all(r["code"] == "too_large" for r in rejected)
            raise SegmentError(413 if big else 400, first["code"],
                               first["message"] if len(rejected) == 1 else
                               f"no message could be stored; the first: {first['message']}",
                               field=first["field"])
        if route_type is not None and ready:
            # One message per request (analytics.js): committed with whatever arrives
            # alongside it (service/commit.py).
            await request.app.state.committer.submit(writes[0])
        step = service.settings.max_batch_events
        for start in range(0, len(ready) if route_type is None else 0, step):
            # Each chunk commits on its own: a client that retries after a 503 resends
            # the batch, and messageIds store what had committed once.
            await run_in_threadpool(service.ingest_prepared, ready[start:start + step])
        answer: dict[str, Any] = {"success": True}
        if rejected:
            answer["rejected"] = rejected
        return _answer(request, 200, answer, source)
    except SegmentError as exc:
        return _refusal(request, exc)
    except DatabaseUnavailable as exc:
        cause = exc.__cause__
        request.app.state.metrics.neo4j_errors.labels(
            type(cause).__name__ if cause else "unknown").inc()
        return _refusal(request, SegmentError(503, exc.code, exc.message,
                                              retry_after=int(RETRY_AFTER_SECONDS)))
    except ConvergeError as exc:
        return _refusal(request, SegmentError(400 if exc.status == 422 else exc.status,
                                              exc.code, exc.message, exc.field))
    except Exception:
        log.exception("segment ingest failed")
        return _refusal(request, SegmentError(500, "internal", "the server failed; retry "
                                              "after Retry-After",
                                              retry_after=int(RETRY_AFTER_SECONDS)))


# The body is read by the route itself (any Content-Type, gzip): documented by hand.
JSON_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "description": "A Segment message, or {\"batch\": [...]}; "
    "see docs/segment.md"}}}}}
REFUSALS = {int(status): {"description": ERRORS[status], "model": ErrorBody}
            for status in ("400", "401", "403", "413", "429", "503")}


def _route(path: str, kind: str, route_type: str | None, doc: str) -> None:
    async def handler(request: Request) -> JSONResponse:
        return await _ingest(request, kind, route_type)

    handler.__name__ = f"segment_{path.rsplit('/', 1)[-1]}"
    router.add_api_route(path, handler, methods=["POST"], summary=doc,
                         response_class=JSONResponse, responses=REFUSALS,
                         openapi_extra=JSON_BODY)


for _path, _type in SERVER_ROUTES.items():
    _route(_path, "webhook", _type, f"Segment {_type} (server libraries; webhook token)")
for _path, _type in WEB_ROUTES.items():
    _route(_path, "web", _type, f"analytics.js {_type} (web token)")
for _path, _kind in BATCH_ROUTES.items():
    _route(_path, _kind, None, f"Segment batch of up to {BATCH_MESSAGES} messages "
           f"({_kind} token)")


@router.post(METRICS_ROUTE, summary="analytics.js metrics: accepted and discarded",
             responses={413: REFUSALS[413]})
async def segment_metrics(request: Request) -> JSONResponse:
    try:
        await read_raw(request, MESSAGE_BYTES)
    except SegmentError as exc:
        return _refusal(request, exc)
    return _answer(request, 200, {"success": True})


@router.get(SETTINGS_PREFIX + "{key}" + SETTINGS_SUFFIX,
            summary="analytics.js settings: where to send events",
            responses={s: REFUSALS[s] for s in (401, 403, 429, 503)})
async def segment_settings(key: str, request: Request) -> JSONResponse:
    service: Service = request.app.state.service
    try:
        source = await _source(request, service, key, "web")
    except SegmentError as exc:
        return _refusal(request, exc)
    except DatabaseUnavailable as exc:
        return _refusal(request, SegmentError(503, exc.code, exc.message,
                                              retry_after=int(RETRY_AFTER_SECONDS)))
    base = (service.settings.public_url or str(request.base_url)).rstrip("/")
    scheme, _, host = base.partition("://")
    return _answer(request, 200, {
        "integrations": {"Segment.io": {
            "apiKey": key, "apiHost": f"{host}/v1", "protocol": scheme,
            "unbundledIntegrations": [], "addBundledMetadata": True,
            "maybeBundledConfigIds": {},
        }},
        "plan": {"track": {"__default": {"enabled": True, "integrations": {}}},
                 "identify": {"__default": {"enabled": True}},
                 "group": {"__default": {"enabled": True}}},
        "edgeFunction": {}, "analyticsNextEnabled": True, "middlewareSettings": {},
        "enabledMiddleware": {}, "metrics": {"sampleRate": 0, "host": f"{host}/v1"},
        "legacyVideoPluginsEnabled": False, "remotePlugins": [],
    }, source, {"Cache-Control": "public, max-age=300"})
