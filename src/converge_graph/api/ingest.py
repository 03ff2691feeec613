"""Ingestion: the webhook source (server-side), the browser collector and its SDK."""

from __future__ import annotations

import re
import secrets
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from starlette.concurrency import run_in_threadpool

from converge_graph.api.deps import ServiceDep, source_for_token
from converge_graph.errors import InvalidInput
from converge_graph.models import (
    BatchResult,
    CollectEvent,
    CollectResult,
    WebhookBatch,
    WebhookEvent,
    WriteResult,
)
from converge_graph.service.ingest import Rejection, collect_write, webhook_write

router = APIRouter(tags=["ingest"])

COOKIE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
COOKIE_MAX_AGE = 2 * 365 * 24 * 3600


async def _webhook(request: Request, token: str | None, event: WebhookEvent) -> dict:
    service = request.app.state.service
    source = await source_for_token(service, token, "webhook")
    return await request.app.state.committer.submit(webhook_write(source, event))


@router.post("/v1/webhook/{token}", response_model=WriteResult)
async def webhook(token: str, event: WebhookEvent, request: Request) -> dict:
    """Record one server-side event; the datasource token is part of the URL."""
    return await _webhook(request, token, event)


@router.post("/v1/webhook", response_model=WriteResult)
async def webhook_header(
    event: WebhookEvent, request: Request,
    x_webhook_token: Annotated[str | None, Header()] = None,
) -> dict:
    """Record one server-side event; the datasource token is in X-Webhook-Token."""
    return await _webhook(request, x_webhook_token, event)


@router.post("/v1/webhook/{token}/batch", response_model=BatchResult)
async def webhook_batch(token: str, batch: WebhookBatch, service: ServiceDep) -> dict:
    """Record up to 500 server-side events; per-item results in order."""
    source = await source_for_token(service, token, "webhook")
    limit = service.settings.max_batch_events
    if len(batch.events) > limit:
        raise InvalidInput(
            f"events has {len(batch.events)} items; at most {limit} per batch — split it",
            field="events",
        )
    admitted = [service.admit(source, item, f"events[{index}]")
                for index, item in enumerate(batch.events)]
    ready = [p for p in admitted if not isinstance(p, Rejection)]
    done = iter(await run_in_threadpool(service.ingest_prepared, ready) if ready else [])
    results = [{"error": p.to_dict()} if isinstance(p, Rejection) else next(done)
               for p in admitted]
    return {"results": results}


@router.post("/v1/collect/{token}", response_model=CollectResult)
async def collect(
    token: str, event: CollectEvent, request: Request, response: Response, service: ServiceDep
) -> dict:
    """Record one browser call (track, forward, set, consent) from the cvg.js SDK."""
    source = await source_for_token(service, token, "web")
    cookie_id = event.cookieId or request.cookies.get(service.settings.cookie_name)
    if not cookie_id or not COOKIE_RE.match(cookie_id):
        cookie_id = secrets.token_hex(16)
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(
        service.settings.cookie_name, cookie_id, max_age=COOKIE_MAX_AGE, samesite="lax",
        secure=secure, httponly=False, path="/",
    )
    await request.app.state.committer.submit(collect_write(source, event, cookie_id))
    return {"cookie_id": cookie_id}  # nothing about the identity: the token is public

