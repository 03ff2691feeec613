"""scripts/neo4j_local.py: a real server started, found running, served, stopped.

One throwaway instance (auth on, ports 27687/27474, a tmp --home) for the whole
module, so it never touches the `make run` or `make test` servers. The jars are
the shared .neo4j/lib: nothing is downloaded again when `make test` fetched them.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from neo4j import GraphDatabase

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "neo4j_local.py"
BOLT_PORT = 27687
HTTP_PORT = 27474


def run_script(home: Path, command: str, *extra: str, timeout: float = 200):
    return subprocess.run(
        [
            sys.executable, str(SCRIPT), command, "--home", str(home),
            "--bolt-port", str(BOLT_PORT), "--http-port", str(HTTP_PORT),
            "--heap", "512m", "--pagecache", "256m", *extra,
        ],
        capture_output=True, text=True, timeout=timeout,
    )


def env_of(stdout: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in stdout.splitlines() if "=" in line)


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("neo4j-local")
    # A stale pid file from a crashed run: start must see through it.
    (home / "neo4j.pid").write_text(f"{dead_pid()}\n")
    first = run_script(home, "start")
    try:
        yield home, first
    finally:
        run_script(home, "stop", timeout=90)


def test_start_replaces_a_stale_pid_file(server) -> None:
    home, first = server
    assert first.returncode == 0, first.stderr
    assert "stale pid file" in first.stderr
    assert "downloading" not in first.stderr, "the shared jars should have been reused"
    pid = int((home / "neo4j.pid").read_text())
    assert Path(f"/proc/{pid}").exists()
    env = env_of(first.stdout)
    assert env["NEO4J_URI"] == f"bolt://127.0.0.1:{BOLT_PORT}"
    assert env["NEO4J_BROWSER_URL"] == f"http://localhost:{HTTP_PORT}/browser/"


def test_second_start_is_a_noop(server) -> None:
    home, first = server
    pid = (home / "neo4j.pid").read_text()
    t0 = time.monotonic()
    again = run_script(home, "start")
    assert again.returncode == 0, again.stderr
    assert "already running" in again.stderr
    assert (home / "neo4j.pid").read_text() == pid
    assert time.monotonic() - t0 < 15
    assert env_of(again.stdout) == env_of(first.stdout)


def test_status_running(server) -> None:
    home, _ = server
    res = run_script(home, "status")
    assert res.returncode == 0
    assert res.stdout.startswith("running")


def test_browser_is_served(server) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{HTTP_PORT}/browser/", timeout=10) as resp:
        assert resp.status == 200
        html = resp.read().decode()
    assert "<title>Neo4j Browser</title>" in html


def test_generated_password_opens_bolt(server) -> None:
    home, first = server
    pw_file = home / "password"
    assert stat.S_IMODE(pw_file.stat().st_mode) == 0o600
    res = run_script(home, "password")
    assert res.returncode == 0
    password = res.stdout.strip()
    assert len(password) >= 16
    assert env_of(first.stdout)["NEO4J_PASSWORD"] == password
    with GraphDatabase.driver(f"bolt://127.0.0.1:{BOLT_PORT}", auth=("neo4j", password)) as driver:
        records, _, _ = driver.execute_query("RETURN 1 AS one")
        assert records[0]["one"] == 1
        assert driver.get_server_info().agent.startswith("Neo4j/5.26")


def test_server_listens_on_loopback_only(server) -> None:
    conf = (server[0] / "conf" / "neo4j.conf").read_text()
    assert "server.default_listen_address=127.0.0.1" in conf
    assert f"server.bolt.listen_address=127.0.0.1:{BOLT_PORT}" in conf


def test_stop(server) -> None:  # last: the module's server is gone afterwards
    home, _ = server
    pid = int((home / "neo4j.pid").read_text())
    res = run_script(home, "stop", timeout=90)
    assert res.returncode == 0, res.stderr
    assert not (home / "neo4j.pid").exists()
    status = run_script(home, "status")
    assert status.returncode == 3
    assert status.stdout.strip() == "stopped"
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        assert state in ("Z", "X"), f"pid {pid} still running"
    except (ProcessLookupError, FileNotFoundError):
        pass
    again = run_script(home, "stop")
    assert again.returncode == 0
    assert "not running" in again.stderr
