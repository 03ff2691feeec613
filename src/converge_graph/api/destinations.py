"""Destinations and their deliveries (admin key): docs/destinations.md."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from converge_graph.api.deps import AdminKey, ServiceDep

router = APIRouter(tags=["destinations"], dependencies=[AdminKey])

Status = Literal["pending", "failed", "delivered", "dead", "skipped"]


class DestinationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    url: str = Field(min_length=1, max_length=2048, description="Where to POST, http(s)")
    events: list[str] | None = Field(None, description="Event names to send; all if absent")
    methods: list[Literal["track", "forward"]] | None = Field(
        None, description="Methods to send; all if absent")
    format: Literal["webhook", "meta-capi"] = "webhook"
    identity_events: bool = Field(False, description="Also send identity.merged, "
                                  "identity.split and identity.erased")
    purpose: Literal["marketing", "analytics"] = Field(
        "marketing", description="The $consent purpose a person must not have denied")


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    destination: str | None = None
    status: Literal["dead", "failed"] = "dead"
    ids: list[str] | None = Field(None, description="Only these delivery ids")


@router.post("/v1/destinations", status_code=201)
async def create(body: DestinationCreate, service: ServiceDep) -> dict:
    """Create a destination; the answer holds its signing secret, shown only once."""
    return await run_in_threadpool(lambda: service.add_destination(
        body.name, body.url, events=body.events, methods=body.methods, format=body.format,
        identity_events=body.identity_events, purpose=body.purpose))


@router.get("/v1/destinations")
async def list_all(service: ServiceDep) -> dict:
    """Every destination with its deliveries counted by status (secrets are not shown)."""
    return {"destinations": await run_in_threadpool(service.list_destinations)}


@router.post("/v1/destinations/{name}/disable")
async def disable(name: str, service: ServiceDep) -> dict:
    """Stop recording and sending for a destination; pending items wait."""
    await run_in_threadpool(service.enable_destination, name, False)
    return {"name": name, "enabled": False}


@router.post("/v1/destinations/{name}/enable")
async def enable(name: str, service: ServiceDep) -> dict:
    """Record and send for a destination again."""
    await run_in_threadpool(service.enable_destination, name, True)
    return {"name": name, "enabled": True}


@router.delete("/v1/destinations/{name}")
async def remove(name: str, service: ServiceDep) -> dict:
    """Remove a destination and every delivery recorded for it."""
    return await run_in_threadpool(service.remove_destination, name)


@router.get("/v1/deliveries")
async def deliveries(
    service: ServiceDep, destination: str | None = None, status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict:
    """Deliveries, newest first, by destination name and status."""
    return {"deliveries": await run_in_threadpool(service.deliveries, destination, status,
                                                  limit)}


@router.post("/v1/deliveries/retry")
async def retry(body: RetryRequest, service: ServiceDep) -> dict:
    """Send dead (or failed) deliveries again now, under their original webhook-id."""
    count = await run_in_threadpool(service.retry_deliveries, body.destination, body.status,
                                    body.ids)
    return {"retried": count}
