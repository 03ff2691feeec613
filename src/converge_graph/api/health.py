"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from converge_graph.api.deps import ServiceDep
from converge_graph.errors import DatabaseUnavailable

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict:
    """The process is alive."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(service: ServiceDep) -> JSONResponse:
    """Neo4j answers a real query and every schema object exists."""
    try:
        missing = await run_in_threadpool(service.missing_schema)
    except DatabaseUnavailable as exc:
        return JSONResponse({"status": "unavailable", "reason": exc.message}, status_code=503,
                            headers={"Retry-After": "5"})
    if missing:
        try:
            await run_in_threadpool(service.apply_schema)
            missing = await run_in_threadpool(service.missing_schema)
        except DatabaseUnavailable as exc:
            return JSONResponse({"status": "unavailable", "reason": exc.message},
                                status_code=503, headers={"Retry-After": "5"})
    if missing:
        return JSONResponse(
            {"status": "unavailable", "reason": f"schema objects missing: {sorted(missing)}"},
            status_code=503, headers={"Retry-After": "5"},
        )
    return JSONResponse({"status": "ready"})
