"""Dependencies: the service of this app, and the key checks of the read and admin routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from converge_graph.service import Service

bearer = HTTPBearer(auto_error=False, description="A read or admin key")


async def get_service(request: Request) -> Service:
    """Async, as are the key checks below: a plain ``def`` dependency runs in the
    threadpool, a thread hop per dependency per request (profiled: benchmarks/README.md)."""
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


async def source_for_token(service: Service, token: str | None, kind: str) -> dict:
    """The datasource of a token, checked in the event loop when the auth cache answers
    (a thread hop costs more than the check) and in the threadpool when Neo4j must."""
    if service.token_cached(token):
        return service.source_for_token(token, kind)
    return await run_in_threadpool(service.source_for_token, token, kind)


def _key(creds: HTTPAuthorizationCredentials | None) -> str | None:
    return creds.credentials if creds else None


async def check_key(service: Service, key: str | None, scope: str) -> None:
    """In the event loop when the auth cache answers, in the threadpool when Neo4j must."""
    if service.key_cached(key):
        service.check_key(key, scope)
    else:
        await run_in_threadpool(service.check_key, key, scope)


async def require_read(
    service: ServiceDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    await check_key(service, _key(creds), "read")


async def require_admin(
    service: ServiceDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    await check_key(service, _key(creds), "admin")


ReadKey = Depends(require_read)
AdminKey = Depends(require_admin)
