"""CORS for the routes analytics.js calls from pages (docs/segment.md#cors).

A preflight carries no write key, so it is answered for any origin. Once the key names
the datasource, :func:`allowed` applies its allowed origins as ``/v1/collect`` does
(api/cors.py): none listed accepts any origin, else the Origin must be listed; the
routes refuse a request from another origin (403) before writing anything. An error
answer is readable too: it reveals nothing, and a page that cannot read a 401 makes
analytics.js retry it as if the network had failed.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from converge_graph.core.origins import origin_allowed

ALLOW_HEADERS = b"Content-Type, Authorization, X-Retry-Count"
MAX_AGE = b"600"


def allowed(source: dict[str, Any] | None, origin: str) -> bool:
    """Whether a page at ``origin`` may read this answer (``source`` None: an error)."""
    return source is None or (source.get("kind") == "web"
                              and origin_allowed(origin, source.get("origins") or []))


def headers(source: dict[str, Any] | None, origin: str | None) -> dict[str, str]:
    if not origin or not allowed(source, origin):
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


class SegmentPreflight:
    """Pure ASGI, outside the app's own CORS middleware: answers preflights on ``paths``
    (exact paths, or prefix + suffix pairs for the settings route) before it can refuse
    an origin it does not list."""

    def __init__(self, app: ASGIApp, *, matches) -> None:
        self.app = app
        self.matches = matches

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS" \
                or not self.matches(scope["path"]):
            await self.app(scope, receive, send)
            return
        request_headers = dict(scope.get("headers", []))
        origin = request_headers.get(b"origin")
        if not origin or b"access-control-request-method" not in request_headers:
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 204, "headers": [
            (b"access-control-allow-origin", origin), (b"vary", b"Origin"),
            (b"access-control-allow-methods", b"GET, POST, OPTIONS"),
            (b"access-control-allow-headers", ALLOW_HEADERS),
            (b"access-control-max-age", MAX_AGE)]})
        await send({"type": "http.response.body", "body": b""})
