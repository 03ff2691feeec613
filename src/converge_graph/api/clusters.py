"""Reads of identities: clusters, profiles, events (bearer read key)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from converge_graph.api.deps import ReadKey, ServiceDep
from converge_graph.api.lean import SECURED, model_response, query_of, query_parameters, require
from converge_graph.errors import NotFound
from converge_graph.models import (
    ClusterPublic,
    EnrichedEvent,
    EventsPage,
    LookupQuery,
    ProfilePublic,
)

router = APIRouter(tags=["identities"], dependencies=[ReadKey])
lookups = APIRouter(tags=["identities"])  # lean routes: they check the key themselves
PageLimit = Annotated[int, Query(ge=1, le=500, description="profiles and links per page")]
After = Annotated[str | None, Query(description="the 'next' cursor of the previous page")]


def browser_url(service, cluster_id: str) -> str:
    """Opens Browser with the library's cluster query for this cluster in the editor."""
    return service.browser_query.edit_url(service.settings.browser_url,
                                          {"cluster_id": cluster_id})


@lookups.get("/v1/clusters/lookup", response_model=ClusterPublic,
             openapi_extra={"parameters": query_parameters(LookupQuery), **SECURED})
async def lookup(request: Request) -> Response:
    """The cluster holding an alias (normalised first, like a write). A lean route
    (api/lean.py): the hottest read."""
    await require(request, "read")
    query = query_of(request, LookupQuery)
    service = request.app.state.service
    if query.trust == "verified":
        body = await run_in_threadpool(service.verified_lookup, query.alias)
    else:
        body = await run_in_threadpool(service.lookup_cluster, query.alias, query.limit,
                                       query.after)
    body["browser_url"] = browser_url(service, body["cluster_id"])
    return model_response(ClusterPublic, body)


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
