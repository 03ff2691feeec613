"""Reading a Segment request: bounded body, bounded gunzip, strict JSON, the write key.

Segment's clients post JSON under any content type (analytics.js says ``text/plain`` to
skip a CORS preflight), gzip it when asked (``Content-Encoding: gzip``), and carry the
write key as the user of HTTP Basic auth or as a ``writeKey`` body field. The routes read
their own bodies rather than pass through the app's body middlewares, so that every
refusal here carries Segment's top-level ``code`` and ``message`` (docs/segment.md).
Limits are on the decompressed size, and decompression stops one byte past the limit:
a small gzip bomb never becomes a large buffer.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from typing import Any

from fastapi import Request

from converge_graph.api.jsonbody import DuplicateKey, Pairs, _unique, duplicate_path, field_name

GZIP_SLACK = 1024  # gzip of incompressible data is a little larger than the data


class SegmentError(Exception):
    """A refusal in Segment's shape: ``{"code", "message"}`` at the top level."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.field, self.retry_after = field, retry_after


def too_large(limit: int, what: str) -> SegmentError:
    return SegmentError(413, "too_large", f"{what} is larger than {limit // 1024} KB once "
                        "decompressed; Segment's limits are 32 KB a message and 500 KB a "
                        "batch: send smaller batches", field="body")


async def read_raw(request: Request, limit: int) -> bytes:
    """The body as sent, refused as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit, "the body")
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > limit:
            raise too_large(limit, "the body")
        chunks.append(chunk)
    return b"".join(chunks)


def gunzip(raw: bytes, limit: int) -> bytes:
    """One gzip member, decompressed to at most ``limit`` bytes (else 413)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(raw, limit + 1)
    except zlib.error as exc:
        raise SegmentError(400, "malformed_gzip", f"Content-Encoding is gzip but the body "
                           f"does not decompress: {exc}", field="body") from None
    if len(out) > limit:
        raise too_large(limit, "the body")
    if not inflater.eof or inflater.unused_data:
        raise SegmentError(400, "malformed_gzip", "the gzip body is truncated or has "
                           "trailing data; send exactly one gzip member", field="body")
    return out


def decode(request: Request, raw: bytes, limit: int) -> bytes:
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding == "gzip":
        return gunzip(raw, limit)
    if encoding not in ("", "identity"):
        raise SegmentError(400, "unsupported_encoding", f"Content-Encoding {encoding!r} is "
                           "not supported; send gzip or nothing", field="Content-Encoding")
    if len(raw) > limit:
        raise too_large(limit, "the body")
    return raw


def parse(body: bytes) -> dict[str, Any]:
    """A JSON object, whatever the Content-Type; duplicate keys refused like elsewhere."""
    try:
        value = json.loads(body, object_pairs_hook=_unique)
    except DuplicateKey:
        path = duplicate_path(json.loads(body, object_pairs_hook=Pairs)) or ("body",)
        raise SegmentError(400, "duplicate_key", f"the key {str(path[-1])!r} appears twice "
                           f"in one object ({field_name(path)}); send it once",
                           field=field_name(path)) from None
    except RecursionError:
        raise SegmentError(400, "too_deep", "the body is nested too deeply to read",
                           field="body") from None
    except ValueError as exc:
        raise SegmentError(400, "malformed_json", f"the body is not UTF-8 JSON: {exc}",
                           field="body") from None
    if not isinstance(value, dict):
        raise SegmentError(400, "malformed_json", "the body must be a JSON object",
                           field="body")
    return value


def write_key(request: Request, body: dict[str, Any]) -> str:
    """The write key: HTTP Basic user (empty password), else the body's ``writeKey``."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic" and encoded.strip():
        try:
            user = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise SegmentError(401, "unauthorized", "the Authorization header is not "
                               "Basic base64(writeKey + ':')", field="Authorization") from None
        if user.partition(":")[0]:
            return user.partition(":")[0]
    key = body.get("writeKey")
    if isinstance(key, str) and key.strip():
        return key.strip()
    raise SegmentError(401, "unauthorized", "missing write key: send it as the HTTP Basic "
                       "user (empty password) or as 'writeKey' in the body", field="writeKey")
