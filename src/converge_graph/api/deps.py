"""Dependencies: the service of this app, and the key checks of the read and admin routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from converge_graph.service import Service

bearer = HTTPBearer(auto_error=False, description="A read or admin key")


def get_service(request: Request) -> Service:
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


def require_read(
    service: ServiceDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    service.check_key(_key(creds), "read")


def require_admin(
    service: ServiceDep, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> None:
    service.check_key(_key(creds), "admin")


ReadKey = Depends(require_read)
AdminKey = Depends(require_admin)
