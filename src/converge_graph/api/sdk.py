"""The browser SDK, ``/v1/cvg.js``: cacheable, revalidated by a strong ETag.

Every page view of every shop loads it, so it is read and compressed once per process, a
browser keeps it for five minutes and then revalidates (``If-None-Match`` → 304, no body),
and a gzip-capable browser gets the gzipped bytes. Each encoding has its own strong ETag
(RFC 9110 §8.8.3: different representations, different validators). Any origin may load
it (api/cors.py).
"""

from __future__ import annotations

import gzip
import hashlib
from functools import cache
from importlib import resources

from fastapi import APIRouter, Request, Response

router = APIRouter(tags=["ingest"])

CACHE_CONTROL = "public, max-age=300"


@cache
def _bodies() -> dict[str, tuple[bytes, str]]:
    """{"identity" | "gzip": (bytes, strong ETag)}."""
    raw = resources.files("converge_graph").joinpath("static/cvg.js").read_bytes()
    digest = hashlib.sha256(raw).hexdigest()[:32]
    return {"identity": (raw, f'"{digest}"'),
            "gzip": (gzip.compress(raw, 9, mtime=0), f'"{digest}-gz"')}


def _gzip_accepted(accept_encoding: str) -> bool:
    """``gzip`` (or ``*``) listed without ``q=0``."""
    for part in accept_encoding.lower().split(","):
        name, _, params = part.partition(";")
        if name.strip() in ("gzip", "*"):
            q = params.strip().removeprefix("q=")
            try:
                return not params.strip() or float(q) > 0
            except ValueError:
                return False
    return False


def _matches(if_none_match: str, etag: str) -> bool:
    """``If-None-Match`` uses weak comparison: ``W/"x"`` matches ``"x"``."""
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return "*" in tags or etag in tags


@router.get("/v1/cvg.js", response_class=Response)
def sdk(request: Request) -> Response:
    """The browser SDK: window.cvg({...}) as in the Converge docs."""
    gzipped = _gzip_accepted(request.headers.get("accept-encoding", ""))
    encoding = "gzip" if gzipped else "identity"
    body, etag = _bodies()[encoding]
    headers = {"Cache-Control": CACHE_CONTROL, "ETag": etag, "Vary": "Accept-Encoding"}
    if encoding == "gzip":
        headers["Content-Encoding"] = "gzip"
    if _matches(request.headers.get("if-none-match", ""), etag):
        headers.pop("Content-Encoding", None)
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/javascript", headers=headers)
