"""Explain, review, undo and erase merges (read key for reads, admin key for changes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from converge_graph.api.deps import AdminKey, ReadKey, ServiceDep
from converge_graph.service.merges import Merges

router = APIRouter(tags=["merges"])


def get_merges(service: ServiceDep) -> Merges:
    return Merges(service)


MergesDep = Annotated[Merges, Depends(get_merges)]


class LinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from", description="profile_id")
    to: str = Field(description="profile_id")
    reason: str = Field(min_length=1, max_length=512, description="Why: kept on the edge")


@router.get("/v1/clusters/{cluster_id}/explain", dependencies=[ReadKey])
async def explain(
    cluster_id: str, merges: MergesDep,
    from_: Annotated[str, Query(alias="from", description="profile_id")],
    to: Annotated[str, Query(description="profile_id")],
) -> dict:
    """The chain of SAME_AS links joining two profiles, each with its evidence; for a
    profile in another cluster, the device hand-overs that kept the two apart."""
    return await run_in_threadpool(merges.explain, cluster_id, from_, to)


@router.get("/v1/conflicts", dependencies=[ReadKey])
async def conflicts(service: ServiceDep,
                    limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict:
    """Refused merges and quarantined aliases, newest first, with the write behind each."""
    return {"conflicts": await run_in_threadpool(service.list_conflicts, limit)}


@router.delete("/v1/links", dependencies=[AdminKey])
async def unmerge(
    merges: MergesDep,
    alias: Annotated[str | None, Query(description="urn whose evidence to remove")] = None,
    event_id: Annotated[str | None, Query(description="event whose evidence to remove")] = None,
) -> dict:
    """Remove evidence (an alias or a shared event); affected clusters split exactly."""
    return await run_in_threadpool(lambda: merges.unmerge(alias=alias, event_id=event_id))


@router.post("/v1/links", dependencies=[AdminKey])
async def link(body: LinkCreate, merges: MergesDep) -> dict:
    """Join two profiles' clusters by hand (reason: manual)."""
    return await run_in_threadpool(merges.link, body.from_, body.to, body.reason)


@router.delete("/v1/clusters/{cluster_id}", dependencies=[AdminKey],
               responses={300: {"description": "split: nothing erased; erase each successor "
                                               "that is this person"}})
async def erase(cluster_id: str, merges: MergesDep):
    """Erase a person: profiles, events, aliases no one else holds. An id merged away is
    followed to the live cluster (``requested`` is the id sent). Idempotent."""
    done = await run_in_threadpool(merges.erase, cluster_id)
    if "split_into" in done:
        return JSONResponse(status_code=300, content={
            **done, "message": "this cluster was split; nothing was erased: erase each "
                               "successor that is this person"})
    return done
