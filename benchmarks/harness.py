"""What the benchmark drives: the API in a subprocess, the CLI, the database, the disk."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2 as httpx
import neo4j

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@dataclass
class Target:
    uri: str
    user: str
    password: str
    database: str = "neo4j"

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "NEO4J_URI": self.uri, "NEO4J_USER": self.user,
                "NEO4J_PASSWORD": self.password, "NEO4J_DATABASE": self.database}

    def driver(self) -> neo4j.Driver:
        auth = (self.user, self.password) if self.password else None
        return neo4j.GraphDatabase.driver(self.uri, auth=auth, notifications_min_severity="OFF")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """``uvicorn`` serving the app factory, one process, access log off."""

    def __init__(self, target: Target, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "converge_graph.api:create_app", "--factory",
             "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
             "--no-access-log"],
            env={**target.env, "CVG_PUBLIC_URL": self.base, **(env or {})}, stdout=self.log,
            stderr=subprocess.STDOUT, cwd=ROOT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the API exited with {self.proc.returncode}; see {log}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the API did not become ready within 60 s; see {log}")

    def memory(self) -> dict[str, int]:
        """Resident and peak resident set of the API process, in bytes (Linux /proc)."""
        status = Path(f"/proc/{self.proc.pid}/status")
        if status.is_file():
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines())
            kib = {k: int(fields[k].split()[0]) for k in ("VmRSS", "VmHWM") if k in fields}
            return {"rss": kib.get("VmRSS", 0) * 1024, "peak_rss": kib.get("VmHWM", 0) * 1024}
        import psutil  # elsewhere: current RSS only, no peak

        rss = psutil.Process(self.proc.pid).memory_info().rss
        return {"rss": rss, "peak_rss": rss}

    def cpu_seconds(self) -> float:
        """User + system CPU the API process has used so far."""
        import psutil

        times = psutil.Process(self.proc.pid).cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def cli(target: Target, *args: str) -> dict[str, Any]:
    """``converge-graph ARGS --json``, as an operator runs it."""
    out = subprocess.run([str(BIN / "converge-graph"), *args, "--json"], env=target.env,
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"converge-graph {' '.join(args)} failed:\n{out.stdout}{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


@dataclass
class Credentials:
    web: str
    hook: str
    read_key: str


def provision(target: Target) -> Credentials:
    web = cli(target, "sources", "add", "bench-web", "--kind", "web")
    hook = cli(target, "sources", "add", "bench-backend", "--kind", "webhook")
    key = cli(target, "keys", "add", "--scope", "read")
    return Credentials(web["token"], hook["token"], key["key"])


def wipe(driver: neo4j.Driver, database: str = "neo4j") -> None:
    """Every node and relationship; the schema stays."""
    with driver.session(database=database) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
                    ).consume()


def disk_usage(path: Path) -> int:
    """Bytes allocated on disk under ``path`` (what ``du`` reports)."""
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
            except FileNotFoundError:
                pass
    return total


def store_size(data_dir: Path | None, database: str = "neo4j") -> dict[str, Any]:
    """The database's store files (transaction logs apart: they are preallocated)."""
    if data_dir is None:
        return {"bytes": None, "note": "skipped: pass --neo4j-data-dir to measure the store"}
    store = data_dir / "databases" / database
    if not store.is_dir():
        return {"bytes": None, "note": f"skipped: {store} is not a directory"}
    logs = data_dir / "transactions" / database
    return {"bytes": disk_usage(store), "tx_log_bytes": disk_usage(logs) if logs.is_dir() else None,
            "path": str(store)}


def neo4j_version(driver: neo4j.Driver) -> str:
    rows, _, _ = driver.execute_query(
        "CALL dbms.components() YIELD name, versions, edition "
        "RETURN name + ' ' + versions[0] + ' ' + edition AS v")
    return rows[0]["v"]
