"""Reads of identities: clusters, profiles, events (bearer read key)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from converge_graph.api.deps import ReadKey, ServiceDep
from converge_graph.core.cypher import browser_edit_url
from converge_graph.errors import NotFound
from converge_graph.models import ClusterPublic, EnrichedEvent, EventsPage, ProfilePublic

router = APIRouter(tags=["identities"], dependencies=[ReadKey])
PageLimit = Annotated[int, Query(ge=1, le=500, description="profiles and links per page")]
After = Annotated[str | None, Query(description="the 'next' cursor of the previous page")]


def browser_url(service, cluster_id: str) -> str:
    """Opens Browser with the library's cluster query for this cluster in the editor."""
    query = service.browser_query.inline({"cluster_id": cluster_id})
    return browser_edit_url(service.settings.browser_url, query)


@router.get("/v1/clusters/lookup", response_model=ClusterPublic, response_model_by_alias=True)
async def lookup(
    alias: Annotated[str, Query(description="urn:<type>:<value>")], service: ServiceDep,
    limit: PageLimit = 100, after: After = None,
    trust: Annotated[Literal["all", "verified"], Query(
        description="all: every link (analytics); verified: only trusted or signed evidence, "
                    "what a page may be personalised with (docs/security.md#verified-reads)")
    ] = "all",
) -> dict:
    """The cluster holding an alias (normalised first, like a write)."""
    if trust == "verified":
        body = await run_in_threadpool(service.verified_lookup, alias)
        body["browser_url"] = browser_url(service, body["cluster_id"])
        return body
    body = await run_in_threadpool(service.lookup_cluster, alias, limit, after)
    body["browser_url"] = browser_url(service, body["cluster_id"])
    return body


async def _cluster(service, cluster_id: str, limit: int = 100, after: str | None = None) -> dict:
    body = await run_in_threadpool(service.cluster, cluster_id, limit, after)
    body["browser_url"] = browser_url(service, cluster_id)
    return body


@router.get("/v1/clusters/{cluster_id}", response_model=ClusterPublic,
            response_model_by_alias=True,
            responses={308: {"description": "merged away: follow Location"},
                       300: {"description": "split: the successors are listed"}})
async def cluster(cluster_id: str, service: ServiceDep, limit: PageLimit = 100,
                  after: After = None):
    """A person: profiles, aliases, SAME_AS evidence, merged properties, activity span;
    at most ``limit`` profiles and links a page (``next`` is the cursor for the rest)."""
    try:
        return await _cluster(service, cluster_id, limit, after)
    except NotFound:
        successors = await run_in_threadpool(service.successors, cluster_id)
        if not successors:
            raise
        if len(successors) == 1:
            return RedirectResponse(f"/v1/clusters/{successors[0]}", status_code=308)
        return JSONResponse(status_code=300, content={
            "cluster_id": cluster_id, "split_into": successors,
            "message": "this cluster was split; read each successor"})


@router.get("/v1/clusters/{cluster_id}/events", response_model=EventsPage)
async def cluster_events(
    cluster_id: str, service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[str | None, Query(description="the 'next' cursor of the last page")] = None,
) -> dict:
    """The person's timeline across devices and datasources, newest first."""
    return await run_in_threadpool(service.events, cluster_id, limit, before)


@router.get("/v1/profiles/{profile_id}", response_model=ProfilePublic)
async def profile(profile_id: str, service: ServiceDep) -> dict:
    """One profile and its cluster_id."""
    return await run_in_threadpool(service.profile, profile_id)


@router.get("/v1/events/{event_id:path}", response_model=EnrichedEvent)
async def event(event_id: str, service: ServiceDep) -> dict:
    """An event enriched with its cluster's merged profile properties."""
    return await run_in_threadpool(service.event, event_id)
