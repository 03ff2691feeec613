"""Strict JSON bodies: a duplicate key or nesting too deep to parse is a 422 naming it.

``json.loads`` keeps the last of two equal keys silently, so ``{"event_id": "A",
"event_id": "B"}`` would be stored as ``B`` although the sender may have meant ``A``; and
nesting deep enough to exhaust the parser's recursion surfaces as an unexplained 400.
This middleware parses JSON bodies once before FastAPI does and refuses both, naming
the field. It sits inside :class:`~converge_graph.api.errors.BodyLimit`, so what it
buffers has already passed the size limits; a body that is not JSON at all (or not
UTF-8) passes through to FastAPI, which answers 400.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from converge_graph.api.errors import error_response

METHODS = ("POST", "PUT", "PATCH", "DELETE")


class DuplicateKey(ValueError):
    pass


class Pairs(list):
    """An object kept as its list of pairs, to find where a duplicate is."""


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise DuplicateKey
    return obj


def duplicate_path(value: Any, path: tuple = ()) -> tuple | None:
    """The path of the first duplicated key, in document order, in a ``Pairs`` tree."""
    if isinstance(value, Pairs):
        seen: set[str] = set()
        for key, item in value:
            if key in seen:
                return (*path, key)
            seen.add(key)
            found = duplicate_path(item, (*path, key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = duplicate_path(item, (*path, index))
            if found:
                return found
    return None


def field_name(path: tuple) -> str:
    """``("events", 3, "properties", "sku")`` as ``events[3].properties.sku``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "body"


def is_json(scope: Scope) -> bool:
    """Whether FastAPI would parse this body as JSON (no content type, or */json, */*+json)."""
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            media = value.decode("latin-1").split(";", 1)[0].strip().lower()
            return media.startswith("application/") and (
                media == "application/json" or media.endswith("+json"))
    return True


def check(body: bytes):
    """None when the body is acceptable (or not JSON: FastAPI answers that), else a 422."""
    try:
        json.loads(body, object_pairs_hook=_unique)
    except DuplicateKey:
        path = duplicate_path(json.loads(body, object_pairs_hook=Pairs)) or ("body",)
        field = field_name(path)
        return error_response(
            422, "duplicate_key",
            f"the key {str(path[-1])!r} appears twice in one object ({field}); "
            "JSON objects must have unique keys: send it once", field=field)
    except RecursionError:
        return error_response(
            422, "too_deep", "the body is nested too deeply to read; properties may nest at "
            "most 10 levels", field="body")
    except ValueError:  # not JSON, not UTF-8: FastAPI's own 400
        return None
    return None


class StrictJson:
    """Pure ASGI: buffer a JSON body, refuse duplicate keys, replay it to the app."""

    def __init__(self, app: ASGIApp, skip: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.skip = skip  # paths whose routes parse their own bodies

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in METHODS or not is_json(scope) \
                or scope["path"] in self.skip:
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away, or BodyLimit has answered 413
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        refusal = check(body) if body else None
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def install(app: FastAPI, skip: frozenset[str] = frozenset()) -> None:
    """Innermost middleware, so that the body limits apply before any buffering here."""
    app.user_middleware.append(Middleware(StrictJson, skip=skip))
