"""CORS for the browser routes, per web datasource (docs/api.md, POST /v1/collect).

A shop's pages live on the shop's origin and call ``/v1/collect/{token}`` on ours, so the
browser asks first (``OPTIONS`` preflight) and then sends the ``POST`` with an ``Origin``.
Which sites may call is a property of the datasource the token names, not of the server,
so the global ``CVG_CORS_ORIGINS`` (kept for the read API) cannot answer it. The cases:

    no Origin header              a server or curl: passed through untouched
    source lists no origins       allowed: the web token is public by design and Origin is
                                  only a browser's courtesy, so the first paste just works
    Origin listed                 allowed
    Origin not listed             403 naming Origin and the command that allows it, on the
                                  preflight and the POST; nothing written; counted in
                                  ``cors_refused_total``
    unknown token (preflight)     401; a POST goes on to the route, which answers it

Allowed answers carry ``Access-Control-Allow-Origin: <origin>`` (never credentials: the
SDK sends the first-party cookie id in the body), and so do the route's own errors, so the
SDK can read a 422 or a 429's ``Retry-After``. This middleware sits outside rate limiting
for that reason. ``/v1/cvg.js`` may be loaded by any origin.

``Origin`` is removed before the request goes on, so the global CORS middleware leaves
these routes alone (two ``Access-Control-Allow-Origin`` headers would fail in browsers).
A ``text/plain`` POST (what ``navigator.sendBeacon`` sends without a preflight) is read as
JSON; it is refused like any other when its Origin is not allowed.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterable

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from converge_graph.api.deps import source_for_token
from converge_graph.api.errors import RETRY_AFTER_SECONDS
from converge_graph.core.origins import origin_allowed
from converge_graph.errors import ConvergeError, DatabaseUnavailable

COLLECT_PATH = re.compile(r"^/v1/collect/([^/]+)/?$")
SDK_PATH = "/v1/cvg.js"
MAX_AGE = "600"  # seconds a browser may reuse a preflight: an origin edit shows within 10 min
Headers = list[tuple[bytes, bytes]]


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


async def _answer(send: Send, status: int, headers: Headers, body: dict | None = None) -> None:
    data = json.dumps(body).encode() if body is not None else b""
    headers = [*headers, (b"content-length", str(len(data)).encode())]
    if body is not None:
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


def _allow(origin: str) -> Headers:
    return [(b"access-control-allow-origin", origin.encode("latin-1")), (b"vary", b"Origin")]


class SourceCors:
    """Pure ASGI: answers preflights and checks ``Origin`` for the browser routes."""

    def __init__(self, app: ASGIApp, *, fastapi_app: FastAPI) -> None:
        self.app = app
        self.fastapi_app = fastapi_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origin = _header(scope, b"origin") if scope["type"] == "http" else None
        if origin is None:
            await self.app(scope, receive, send)
            return
        if scope["path"] == SDK_PATH:
            await self._sdk(scope, receive, send)
            return
        match = COLLECT_PATH.match(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        preflight = scope["method"] == "OPTIONS" and _header(
            scope, b"access-control-request-method") is not None
        state = self.fastapi_app.state
        try:
            source = await source_for_token(state.service, match.group(1), "web")
        except ConvergeError as exc:
            if preflight:
                error = {**exc.to_dict(), "field": exc.field or "token"}
                retry = [(b"retry-after", RETRY_AFTER_SECONDS.encode())] if isinstance(
                    exc, DatabaseUnavailable) else []
                await _answer(send, exc.status, retry, {"error": error})
            else:  # the route raises the same error through the app's error table
                await self._forward(scope, receive, send, _allow(origin))
            return
        # No exception for the API's own origin: Host can be rebound by a hostile DNS name,
        # so the demo shop on a source with a list needs the API's origin listed too.
        if not origin_allowed(origin, source["origins"]):
            state.metrics.cors_refused.inc()
            await _answer(send, 403, [] if preflight else _allow(origin),
                          {"error": _refusal(origin, source)})
            return
        if preflight:
            await _answer(send, 204, [
                *_allow(origin), (b"access-control-allow-methods", b"POST"),
                (b"access-control-allow-headers", b"Content-Type"),
                (b"access-control-max-age", MAX_AGE.encode())])
            return
        await self._forward(scope, receive, send, [
            *_allow(origin), (b"access-control-expose-headers", b"Retry-After")])

    async def _sdk(self, scope: Scope, receive: Receive, send: Send) -> None:
        allow = [(b"access-control-allow-origin", b"*")]
        if scope["method"] == "OPTIONS":
            await _answer(send, 204, [*allow, (b"access-control-allow-methods", b"GET"),
                                      (b"access-control-max-age", MAX_AGE.encode())])
            return
        await self._forward(scope, receive, send, allow)

    async def _forward(self, scope: Scope, receive: Receive, send: Send, extra: Headers) -> None:
        """The request without its Origin (and text/plain read as JSON), ``extra`` added to
        the answer."""
        headers = [(k, v) for k, v in scope["headers"] if k != b"origin"]
        headers = [(k, b"application/json") if k == b"content-type"
                   and v.split(b";")[0].strip().lower() == b"text/plain" else (k, v)
                   for k, v in headers]

        async def send_with(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in extra}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        await self.app({**scope, "headers": headers}, receive, send_with)


def _refusal(origin: str, source: dict) -> dict:
    listed: Iterable[str] = source["origins"]
    return {"code": "origin_not_allowed", "field": "Origin", "message": (
        f"Origin {origin} may not call datasource {source['name']!r}, which accepts "
        f"{', '.join(listed)}; to allow it run `converge-graph sources origins "
        f"{shlex.quote(source['name'])} --add {shlex.quote(origin)}`")}


def install(app: FastAPI) -> None:
    """Outside rate limiting and the body limits, so their answers carry CORS headers."""
    app.add_middleware(SourceCors, fastapi_app=app)
