"""Datasources, API keys and authentication (docs/api.md#authentication)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from converge_graph.core.ids import new_id, new_secret, same_hash, secret_hash
from converge_graph.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from converge_graph.store.graph import Graph

SCOPES = {"read": 1, "admin": 2}
AUTH_CACHE_SIZE = 10_000


class AuthCache(OrderedDict[str, tuple[float, dict | None]]):
    """Recent token and key checks, least recently used first, at most ``size`` of them:
    anyone can send made-up tokens, and each would otherwise stay cached for good."""

    def __init__(self, size: int = AUTH_CACHE_SIZE) -> None:
        super().__init__()
        self.size = size

    def get(self, key: str, default: tuple[float, dict | None] | None = None):  # type: ignore[override]
        if key in self:
            self.move_to_end(key)
            return self[key]
        return default

    def put(self, key: str, value: tuple[float, dict | None]) -> None:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Sources:
    """Datasource tokens and API keys; mixed into :class:`converge_graph.service.Service`."""

    graph: Graph
    _auth_cache: AuthCache

    # -- authentication ---------------------------------------------------------------
    def _cached(
        self, kind: str, secret: str, lookup: Callable[[str], dict | None]
    ) -> dict | None:
        digest = secret_hash(secret)
        key = f"{kind}:{digest}"
        hit = self._auth_cache.get(key)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        found = lookup(digest)
        stored = found and (found.get("token_hash") or found.get("key_hash"))
        if found is not None and not same_hash(stored or "", digest):
            found = None
        self._auth_cache.put(key, (time.monotonic() + (30.0 if found else 2.0), found))
        return found

    def source_for_token(self, token: str | None, kind: str | None = None) -> dict:
        if not token:
            raise Unauthorized("missing datasource token: put it in the URL or X-Webhook-Token")
        source = self._cached("source", token, self.graph.find_datasource)
        if source is None:
            raise Unauthorized(
                "unknown datasource token; create one with `converge-graph sources add`"
            )
        if kind is not None and source["kind"] != kind:
            raise Forbidden(
                f"this token belongs to a {source['kind']} datasource; "
                f"use a {kind} datasource's token for this route"
            )
        return source

    def check_key(self, key: str | None, scope: str) -> None:
        if not key:
            raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
        found = self._cached("key", key, self.graph.find_api_key)
        if found is None:
            raise Unauthorized("unknown API key; mint one with `converge-graph keys add`")
        if SCOPES[found["scope"]] < SCOPES[scope]:
            raise Forbidden(f"this route needs a key with scope '{scope}'")

    # -- datasources and keys ---------------------------------------------------------
    def add_source(self, name: str, kind: str) -> dict:
        token = new_secret("cvg_web" if kind == "web" else "cvg_hook")
        row = self.graph.create_datasource(
            source_id=new_id("src"), name=name, kind=kind, token_hash=secret_hash(token),
            now=utcnow(),
        )
        return {**row, "token": token}

    def add_key(self, scope: str, name: str = "") -> dict:
        key = new_secret(f"cvg_{scope}")
        self.graph.create_api_key(key_hash=secret_hash(key), scope=scope, name=name, now=utcnow())
        return {"key": key, "scope": scope}

