"""`converge-graph serve` closes connections an idle client holds open; a slowly sent
request and an oversized head are the proxy's to cut off
(docs/security.md#deploying-behind-a-proxy). A real server process, raw sockets."""

from __future__ import annotations

import socket
import time

from tests.procs import running_api


def _request(path: str, extra: str = "") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()


def _read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    started, data = time.monotonic(), b""
    sock.settimeout(limit)
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except TimeoutError:
        return data, float("inf")
    return data, time.monotonic() - started


def test_an_idle_keep_alive_connection_is_closed_by_the_server(neo4j_settings, tmp_path):
    with running_api(neo4j_settings, tmp_path / "api.log",
                     extra_env={"API_KEEP_ALIVE_SECONDS": "1"}) as api, \
            socket.create_connection(("127.0.0.1", api.port), timeout=5) as sock:
        sock.sendall(_request("/healthz"))
        data, closed_after = _read_until_closed(sock, limit=10)
    assert data.startswith(b"HTTP/1.1 200")
    assert closed_after < 5, "the server kept an idle connection open"
