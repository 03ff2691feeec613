"""Lean routes: the hot endpoints take the bare request and validate with their model once.

FastAPI resolves a route's declared parameters and dependencies afresh on every request;
for the lookup that machinery cost more CPU than the query it served (profiled:
benchmarks/README.md, "What the profile showed"). A lean route declares only ``request``,
checks its key in the event loop, validates the query string with one pydantic model and
serialises the response model itself. Its OpenAPI entry is unchanged: the parameters come
from the same model (:func:`query_parameters`), and validation errors are raised as
FastAPI's own :class:`RequestValidationError`, so they answer exactly as before.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, ValidationError

from converge_graph.api.deps import check_key

M = TypeVar("M", bound=BaseModel)


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """OpenAPI parameter objects for a query-string model (what FastAPI would list)."""
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required,
             "description": field.get("description", ""),
             "schema": {k: v for k, v in field.items() if k != "description"}}
            for name, field in schema["properties"].items()]


def query_of(request: Request, model: type[M]) -> M:
    """The query string as ``model``; a bad value is the usual 422 naming the parameter."""
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        raise RequestValidationError(
            [{**err, "loc": ("query", *err["loc"])} for err in exc.errors()]) from None


def bearer_key(request: Request) -> str | None:
    """The key of an ``Authorization: Bearer …`` header, read as ``HTTPBearer`` reads it."""
    scheme, credentials = get_authorization_scheme_param(request.headers.get("authorization"))
    return credentials if scheme.lower() == "bearer" and credentials else None


async def require(request: Request, scope: str) -> None:
    await check_key(request.app.state.service, bearer_key(request), scope)


def model_response(model: type[BaseModel], body: dict[str, Any]) -> Response:
    """``body`` checked against the response model and serialised as FastAPI would."""
    return Response(model.model_validate(body).model_dump_json(by_alias=True),
                    media_type="application/json")


SECURED = {"security": [{"HTTPBearer": []}]}
