"""Ingestion: the webhook source (server-side), the browser collector and its SDK."""

from __future__ import annotations

import re
import secrets
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Header, Request, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from converge_graph.aliases import screen
from converge_graph.api.deps import ServiceDep
from converge_graph.api.errors import describe
from converge_graph.errors import ConvergeError, InvalidInput
from converge_graph.models import (
    BatchResult,
    CollectEvent,
    CollectResult,
    WebhookBatch,
    WebhookEvent,
    WriteResult,
)
from converge_graph.service import Write

router = APIRouter(tags=["ingest"])

COOKIE_RE = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
COOKIE_MAX_AGE = 2 * 365 * 24 * 3600


def webhook_write(source: dict, event: WebhookEvent) -> Write:
    return Write(
        source=source, method=event.method, event_name=event.event_name,
        properties=event.properties, profile_properties=event.profile_properties,
        event_id=event.event_id, aliases=event.aliases, timestamp=event.timestamp,
    )


async def _webhook(request: Request, token: str | None, event: WebhookEvent) -> dict:
    service = request.app.state.service
    source = await run_in_threadpool(service.source_for_token, token, "webhook")
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
    source = await run_in_threadpool(service.source_for_token, token, "webhook")
    limit = service.settings.max_batch_events
    if len(batch.events) > limit:
        raise InvalidInput(
            f"events has {len(batch.events)} items; at most {limit} per batch — split it",
            field="events",
        )
    results: list[dict | None] = [None] * len(batch.events)
    writes, slots = [], []
    for index, item in enumerate(batch.events):
        try:
            event = WebhookEvent.model_validate(item)
            screen(event.aliases, service.policy, service.settings.default_region)
        except ValidationError as exc:
            results[index] = {"error": {"code": "invalid",
                                        **describe(exc.errors()[0], f"events[{index}]")}}
            continue
        except ConvergeError as exc:
            results[index] = {"error": {**exc.to_dict(),
                                        "field": f"events[{index}].{exc.field or 'event'}"}}
            continue
        writes.append(webhook_write(source, event))
        slots.append(index)
    done = await run_in_threadpool(service.ingest_batch, writes) if writes else []
    for index, result in zip(slots, done, strict=True):
        results[index] = result
    return {"results": results}


@router.post("/v1/collect/{token}", response_model=CollectResult)
async def collect(
    token: str, event: CollectEvent, request: Request, response: Response, service: ServiceDep
) -> dict:
    """Record one browser call (track, forward, set, consent) from the cvg.js SDK."""
    source = await run_in_threadpool(service.source_for_token, token, "web")
    cookie_id = event.cookieId or request.cookies.get(service.settings.cookie_name)
    if not cookie_id or not COOKIE_RE.match(cookie_id):
        cookie_id = secrets.token_hex(16)
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    response.set_cookie(
        service.settings.cookie_name, cookie_id, max_age=COOKIE_MAX_AGE, samesite="lax",
        secure=secure, httponly=False, path="/",
    )
    profile_properties = dict(event.profileProperties)
    method = event.method
    if method == "consent":
        consent = {k: v for k, v in (("analytics", event.analytics),
                                     ("marketing", event.marketing)) if v is not None}
        profile_properties["$consent"] = consent
        method = "set"
    write = Write(
        source=source, method=method, event_name=event.eventName, properties=event.properties,
        profile_properties=profile_properties, event_id=event.eventID, aliases=event.aliases,
        timestamp=event.timestamp, cookie_id=cookie_id,
    )
    result = await request.app.state.committer.submit(write)
    return {**result, "cookie_id": cookie_id}


@router.get("/v1/cvg.js", response_class=Response)
def sdk() -> Response:
    """The browser SDK: window.cvg({...}) as in the Converge docs."""
    text = resources.files("converge_graph").joinpath("static/cvg.js").read_text("utf-8")
    return Response(text, media_type="application/javascript",
                    headers={"Cache-Control": "public, max-age=300"})
