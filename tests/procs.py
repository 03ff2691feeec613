"""Real processes for the tests that need them: the API under uvicorn (`converge-graph
serve`) and a throwaway local Neo4j (`scripts/neo4j_local.py`). Loopback only; every
wait is bounded."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent / "converge-graph"
NEO4J_SCRIPT = ROOT / "scripts" / "neo4j_local.py"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    """Resident set size of a process (Linux /proc)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


class ApiProcess:
    """``converge-graph serve`` on a free loopback port, against ``neo4j_uri``."""

    def __init__(self, neo4j_uri: str, log: Path, port: int | None = None,
                 password: str = "", extra_env: dict[str, str] | None = None) -> None:
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self.env = {**os.environ, "NEO4J_URI": neo4j_uri, "NEO4J_USER": "neo4j",
                    "NEO4J_PASSWORD": password, "API_HOST": "127.0.0.1",
                    **(extra_env or {})}
        self.proc: subprocess.Popen | None = None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, ready: str = "/readyz", timeout: float = 60) -> ApiProcess:
        with self.log_path.open("a") as log:
            self.proc = subprocess.Popen(
                [str(CLI), "serve", "--port", str(self.port)], env=self.env, cwd=ROOT,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the API exited with {self.proc.returncode}; "
                                   f"see {self.log_path}:\n{self.log_tail()}")
            try:
                if httpx.get(self.base + ready, timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"the API was not ready within {timeout:.0f} s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown, no draining, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, n: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


@contextlib.contextmanager
def running_api(neo4j_settings, log: Path, **options) -> Iterator[ApiProcess]:
    """An API process for one test or module: started (the test fails if it cannot be),
    yielded, stopped."""
    api = ApiProcess(neo4j_settings.neo4j_uri, log, password=neo4j_settings.neo4j_password,
                     **options)
    try:
        api.start(ready="/healthz", timeout=30)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield api
    finally:
        api.stop()


class LocalNeo4j:
    """A throwaway Neo4j 5.26 from ``scripts/neo4j_local.py``: no auth, its own ports."""

    def __init__(self, home: Path, heap: str = "512m", pagecache: str = "256m") -> None:
        self.home = home
        self.bolt_port = free_port()
        self.http_port = free_port()
        self.heap = heap
        self.pagecache = pagecache

    @property
    def uri(self) -> str:
        return f"bolt://127.0.0.1:{self.bolt_port}"

    def _script(self, command: str, *extra: str, timeout: float = 180) -> None:
        args = [sys.executable, str(NEO4J_SCRIPT), command, "--home", str(self.home),
                "--bolt-port", str(self.bolt_port), "--http-port", str(self.http_port),
                "--no-auth", "--heap", self.heap, "--pagecache", self.pagecache, *extra]
        out = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                             stdin=subprocess.DEVNULL)
        if out.returncode != 0:
            raise RuntimeError(f"neo4j_local.py {command} failed ({out.returncode}):\n"
                               f"{out.stdout}{out.stderr}")

    def start(self, fresh: bool = False) -> None:
        self._script("start", *(["--fresh"] if fresh else []))

    def stop(self) -> None:
        self._script("stop", timeout=90)

    def pid(self) -> int:
        return int((self.home / "neo4j.pid").read_text().strip())

    def kill(self) -> int:
        """SIGKILL the server's JVM, as a crash or the OOM killer would; returns its pid."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and _alive(pid):
            time.sleep(0.1)
        return pid


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
