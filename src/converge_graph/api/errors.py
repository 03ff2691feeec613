"""The error table: every failure becomes a JSON body naming the field and the fix.

    400 malformed JSON           422 invalid content (pydantic or ConvergeError)
    401 unknown or missing key   404 unknown id or route  413 body too large
    405 wrong method             503 Neo4j unreachable, with Retry-After
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from converge_graph.errors import ConvergeError, DatabaseUnavailable, Forbidden, Unauthorized
from converge_graph.models import ErrorBody, describe

RETRY_AFTER_SECONDS = "5"


def error_response(status: int, code: str, message: str, field: str | None = None,
                   details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    if details:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


async def validation_handler(_request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        err = next(e for e in errors if e.get("type") == "json_invalid")
        reason = err.get("ctx", {}).get("error", "invalid JSON")
        return error_response(400, "malformed_json", f"the body is not valid JSON: {reason}",
                              field="body")
    details = [describe(err) for err in errors]
    first = details[0]
    return error_response(422, "invalid", first["message"], field=first["field"], details=details)


def _credential_field(request: Request) -> str:
    """Where this request carries its credential: the one field an auth error is about."""
    if "token" in request.path_params:
        return "token"
    if request.url.path.startswith("/v1/webhook"):
        return "X-Webhook-Token"
    return "Authorization"


async def converge_handler(request: Request, exc: ConvergeError) -> JSONResponse:
    headers = {"Retry-After": RETRY_AFTER_SECONDS} if isinstance(exc, DatabaseUnavailable) else None
    field = exc.field
    if field is None and isinstance(exc, Unauthorized | Forbidden):
        field = _credential_field(request)
    return error_response(exc.status, exc.code, exc.message, field=field, headers=headers)


HTTP_CODES = {400: "malformed_body", 404: "not_found", 405: "method_not_allowed"}


async def http_handler(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Framework errors (no such route, wrong method, unreadable body) in the same shape."""
    if exc.status_code == 400:
        message, field = "the body could not be read as UTF-8 JSON; send a JSON object", "body"
    elif exc.status_code == 404:
        message, field = "no such route; see /docs for the routes", "path"
    elif exc.status_code == 405:
        message, field = f"{request.method} is not allowed on this route; see /docs", "method"
    else:
        message, field = str(exc.detail), None
    return error_response(exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"),
                          message, field=field, headers=exc.headers)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, validation_handler)
    app.add_exception_handler(ConvergeError, converge_handler)
    app.add_exception_handler(StarletteHTTPException, http_handler)
    _document(app)


UNCHECKED_PATHS = {"/healthz", "/readyz", "/v1/cvg.js"}  # no key, no body, no Neo4j error body
ERRORS = {
    "400": "Malformed JSON", "401": "Unknown or missing token or key",
    "403": "A token or key of the wrong kind", "404": "Unknown id",
    "413": "Body too large", "422": "Invalid content",
    "429": "Rate limited (when CVG_RATE_LIMIT_PER_SECOND is set); retry after Retry-After",
    "503": "Neo4j unreachable; retry after the Retry-After header",
}


def _error_statuses(path: str, operation: dict[str, Any]) -> list[str]:
    """Which statuses of the error table an operation can answer."""
    if path in UNCHECKED_PATHS:
        return []
    names = {p["name"].lower() for p in operation.get("parameters", [])}
    statuses = ["503"]
    if operation.get("security") or names & {"token", "x-webhook-token"}:
        statuses += ["401", "403", "429"]
    if operation.get("security"):
        statuses.append("404")
    if "requestBody" in operation:
        statuses += ["400", "413"]
    if names or "requestBody" in operation:
        statuses.append("422")
    return statuses


def _document(app: FastAPI) -> None:
    """Put the error table into the OpenAPI schema, replacing FastAPI's default 422 body."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(error_schema.pop("$defs", {}))
        components["ErrorBody"] = error_schema
        for path, operations in schema.get("paths", {}).items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status in _error_statuses(path, operation):
                    responses[status] = {"description": ERRORS[status], "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}
                    }}
        for unused in ("HTTPValidationError", "ValidationError"):
            if f"#/components/schemas/{unused}" not in json.dumps(schema["paths"]):
                components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


class BodyLimit:
    """Refuses bodies over the limit while reading the stream, before any parsing."""

    def __init__(self, app: ASGIApp, *, event_bytes: int, batch_bytes: int,
                 own_limits: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.event_bytes = event_bytes
        self.batch_bytes = batch_bytes
        self.own_limits = own_limits  # paths whose routes bound their own bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("POST", "PUT", "PATCH", "DELETE") \
                or scope["path"] in self.own_limits:
            await self.app(scope, receive, send)
            return
        limit = self.batch_bytes if scope["path"].endswith("/batch") else self.event_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(send, limit)
                return
        seen = 0
        started = refused = False

        async def limited_receive() -> Message:
            # FastAPI turns any exception raised while it reads the body into a 400, so the
            # refusal is sent from here and the app is told the client went away.
            nonlocal seen, started, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    refused = True
                    if not started:
                        started = True
                        await self._refuse(send, limit)
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app answers is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)

    @staticmethod
    async def _refuse(send: Send, limit: int) -> None:
        body = json.dumps({"error": {
            "code": "too_large", "field": "body",
            "message": f"the body is larger than {limit} bytes; "
                       "split it (batches: at most 500 events and 5 MiB)",
        }}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
