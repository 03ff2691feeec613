"""Web origins: what a web datasource lists as the sites allowed to call it.

An origin is ``scheme://host[:port]`` exactly as a browser sends it in the ``Origin``
header: lower-case scheme and host, no default port, no path, query or fragment. Stored
origins are normalised the same way, so matching is string equality.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from converge_graph.errors import InvalidInput

DEFAULT_PORTS = {"http": 80, "https": 443}
EXAMPLE = "https://shop.example or http://localhost:8080"


def normalise_origin(raw: str, field: str = "origin") -> str:
    """``raw`` as a browser would send it; InvalidInput naming ``field`` otherwise."""
    text = raw.strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise InvalidInput(f"{field} {raw!r} has an invalid port; write scheme://host[:port], "
                           f"e.g. {EXAMPLE}",
                           field=field) from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc:
        raise InvalidInput(
            f"{field} {raw!r} is not an origin: write scheme://host[:port] with scheme http "
            f"or https, e.g. {EXAMPLE}", field=field)
    if parts.path not in ("", "/") or parts.query or parts.fragment or text.endswith("?"):
        raise InvalidInput(
            f"{field} {raw!r} has a path, query or fragment; an origin is only "
            f"scheme://host[:port], e.g. {EXAMPLE}", field=field)
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    suffix = "" if port is None or port == DEFAULT_PORTS[scheme] else f":{port}"
    return f"{scheme}://{host}{suffix}"


def origin_allowed(origin: str, allowed: list[str]) -> bool:
    """A source that lists no origins accepts any: its token is public by design and
    ``Origin`` is only a browser's courtesy, so listing narrows, never unlocks."""
    return not allowed or origin in allowed
