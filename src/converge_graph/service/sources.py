"""Datasources, API keys and authentication (docs/api.md#authentication)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from converge_graph.core.ids import new_id, new_secret, same_hash, secret_hash
from converge_graph.errors import Forbidden, Unauthorized

if TYPE_CHECKING:
    from converge_graph.store.graph import Graph

SCOPES = {"read": 1, "admin": 2}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Sources:
    """Datasource tokens and API keys; mixed into :class:`converge_graph.service.Service`."""

    graph: Graph
    _auth_cache: dict[str, tuple[float, dict | None]]

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
        self._auth_cache[key] = (time.monotonic() + (30.0 if found else 2.0), found)
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
    def add_source(self, name: str, kind: str, accept_unsigned: list[str] | None = None) -> dict:
        """A datasource and its token; a web source also gets its signing secret. Both are
        shown only here (docs/security.md#what-each-token-can-and-cannot-do)."""
        token = new_secret("cvg_web" if kind == "web" else "cvg_hook")
        signing_secret = new_secret("cvg_sign") if kind == "web" else None
        row = self.graph.create_datasource(
            source_id=new_id("src"), name=name, kind=kind, token_hash=secret_hash(token),
            now=utcnow(), signing_secret=signing_secret,
            accept_unsigned=sorted(set(accept_unsigned)) if accept_unsigned else None,
        )
        shown = {**row, "token": token}
        if signing_secret:
            shown["signing_secret"] = signing_secret
        return shown

    def add_key(self, scope: str, name: str = "") -> dict:
        key = new_secret(f"cvg_{scope}")
        self.graph.create_api_key(key_hash=secret_hash(key), scope=scope, name=name, now=utcnow())
        return {"key": key, "scope": scope}

