"""Datasources, API keys and authentication (docs/api.md#authentication)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from converge_graph.core.ids import new_id, new_secret, same_hash, secret_hash
from converge_graph.core.origins import normalise_origin
from converge_graph.errors import Forbidden, InvalidInput, NotFound, Unauthorized

if TYPE_CHECKING:
    from converge_graph.store.graph import Graph

SCOPES = {"read": 1, "admin": 2}
AUTH_CACHE_SIZE = 10_000
# How long a rotated-out signing secret keeps signing, by default and at most
# (docs/security.md#rotating-the-signing-secret).
SIGNING_GRACE = timedelta(hours=24)
MAX_SIGNING_GRACE = timedelta(days=30)


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
    def token_cached(self, token: str | None) -> bool:
        """Whether :meth:`source_for_token` would answer from memory (no Neo4j round trip)."""
        return self._is_cached("source", token)

    def key_cached(self, key: str | None) -> bool:
        """Whether :meth:`check_key` would answer from memory (no Neo4j round trip)."""
        return self._is_cached("key", key)

    def _is_cached(self, kind: str, secret: str | None) -> bool:
        if not secret:
            return True
        hit = self._auth_cache.get(f"{kind}:{secret_hash(secret)}")
        return bool(hit and hit[0] > time.monotonic())

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
    def add_source(self, name: str, kind: str, origins: list[str] | tuple[str, ...] = (),
                   accept_unsigned: list[str] | None = None) -> dict:
        """A new datasource and its token; a web source also gets its signing secret. Both
        are returned only here (docs/security.md#what-each-token-can-and-cannot-do).
        ``origins``: the sites a web source's pages may call from; none means any
        (docs/api.md, POST /v1/collect)."""
        if origins and kind != "web":
            raise InvalidInput("--origin is for web datasources (browsers send Origin); "
                               "drop it or use --kind web", field="origin")
        listed = _unique(normalise_origin(o, "--origin") for o in origins)
        token = new_secret("cvg_web" if kind == "web" else "cvg_hook")
        signing_secret = new_secret("cvg_sign") if kind == "web" else None
        row = self.graph.create_datasource(
            source_id=new_id("src"), name=name, kind=kind, token_hash=secret_hash(token),
            now=utcnow(), origins=listed or None, signing_secret=signing_secret,
            accept_unsigned=sorted(set(accept_unsigned)) if accept_unsigned else None,
        )
        shown = {**row, "token": token}
        if signing_secret:
            shown["signing_secret"] = signing_secret
        return shown

    def edit_origins(self, name: str, add: list[str] | tuple[str, ...] = (),
                     remove: list[str] | tuple[str, ...] = ()) -> dict:
        """Add and remove allowed origins of the web datasource ``name`` (or source_id);
        returns it with its new list. The API's token cache picks it up within 30 s."""
        source = self._web_source(name, "origins")
        added = [normalise_origin(o, "--add") for o in add]
        removed = {normalise_origin(o, "--remove") for o in remove}
        origins = _unique([o for o in source["origins"] if o not in removed] + added)
        row = self.graph.set_datasource_origins(source["source_id"], origins or None)
        if row is None:
            raise NotFound(f"datasource {name!r} was deleted meanwhile", field="name")
        self._auth_cache.clear()  # this process at least sees the change at once
        return row

    def signing_secret_status(self, name: str) -> dict:
        """Whether the web datasource ``name`` (or source_id) has a signing secret, when it
        was last rotated, and until when the secret it replaced still signs. No secret."""
        source = self._web_source(name, "signing secrets")
        until = source["previous_signing_secret_until"]
        return {"source_id": source["source_id"], "name": source["name"],
                "has_signing_secret": source["has_signing_secret"],
                "rotated_at": source["signing_secret_rotated_at"],
                "previous_signs_until": until if until and until > utcnow() else None}

    def rotate_signing_secret(self, name: str, grace: timedelta = SIGNING_GRACE) -> dict:
        """A new signing secret for the web datasource ``name``, returned only here. The
        secret it replaces keeps signing for ``grace`` (none: it stops at once, as after a
        leak) while the shop's servers switch; a source without a secret gets its first.
        Running APIs see the change within 30 s (their token cache); this process at once."""
        if not timedelta(0) <= grace <= MAX_SIGNING_GRACE:
            raise InvalidInput(f"the grace window must be between 0 and "
                               f"{MAX_SIGNING_GRACE.days} days", field="grace")
        before = self.signing_secret_status(name)
        secret = new_secret("cvg_sign")
        now = utcnow()
        row = self.graph.rotate_signing_secret(before["source_id"], secret,
                                               now + grace if grace else None, now)
        if row is None:
            raise NotFound(f"datasource {name!r} was deleted meanwhile", field="name")
        self._auth_cache.clear()
        return {"source_id": row["source_id"], "name": row["name"], "signing_secret": secret,
                "had_signing_secret": before["has_signing_secret"],
                "previous_signs_until": row["previous_signing_secret_until"],
                "ended_grace_of_older": before["previous_signs_until"]}

    def _web_source(self, name: str, what: str) -> dict:
        source = self._one_source(name)
        if source["kind"] != "web":
            raise InvalidInput(f"{name!r} is a {source['kind']} datasource; {what} are "
                               "for web datasources", field="name")
        return source

    def _one_source(self, name: str) -> dict:
        found = self.graph.find_datasource_by_name(name)
        if not found:
            raise NotFound(f"no datasource named {name!r}; `converge-graph sources list` "
                           "shows them", field="name")
        if len(found) > 1:
            ids = ", ".join(s["source_id"] for s in found)
            raise InvalidInput(f"{len(found)} datasources are named {name!r} ({ids}); "
                               "pass one's source_id instead", field="name")
        return found[0]

    def add_key(self, scope: str, name: str = "") -> dict:
        key = new_secret(f"cvg_{scope}")
        self.graph.create_api_key(key_hash=secret_hash(key), scope=scope, name=name, now=utcnow())
        return {"key": key, "scope": scope}



def _unique(items) -> list[str]:
    """In order, without repeats."""
    return list(dict.fromkeys(items))
