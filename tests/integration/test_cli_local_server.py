"""After `make run`, the CLI finds the local Neo4j and its generated password by itself.

A real server with authentication on (scripts/neo4j_local.py, a tmp --home standing in
for .neo4j/run, free ports) and the real `converge-graph` executable, run with no NEO4J_*
variable in its environment: only CVG_LOCAL_NEO4J_HOME says where the instance lives.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.procs import CLI, NEO4J_SCRIPT, ROOT, free_port


def neo4j_local(home: Path, command: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(NEO4J_SCRIPT), command, "--home", str(home),
                           *extra], cwd=ROOT, capture_output=True, text=True, timeout=240,
                          stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A `make run`-like instance: auth on (the default), its password generated."""
    home = tmp_path_factory.mktemp("run")
    started = neo4j_local(home, "start", "--bolt-port", str(free_port()), "--http-port",
                          str(free_port()), "--heap", "512m", "--pagecache", "128m")
    if started.returncode != 0:
        pytest.fail(f"could not start a local Neo4j with auth:\n{started.stderr}")
    try:
        yield home
    finally:
        neo4j_local(home, "stop")


def cli(*args: str, home: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "CVG_"))}
    env["CVG_LOCAL_NEO4J_HOME"] = str(home)
    env["COLUMNS"] = "200"
    return subprocess.run([str(CLI), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, stdin=subprocess.DEVNULL)


def test_the_server_really_requires_a_password(home: Path) -> None:
    instance = json.loads((home / "instance.json").read_text())
    assert instance["auth"] is True
    assert (home / "password").read_text().strip()


def test_cluster_by_alias_works_with_no_neo4j_variable_set(home: Path, tmp_path: Path) -> None:
    assert cli("schema", "apply", home=home, cwd=tmp_path).returncode == 0
    added = cli("sources", "add", "shop-backend", "--kind", "webhook", "--json",
                home=home, cwd=tmp_path)
    assert added.returncode == 0, added.stdout + added.stderr
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(json.dumps(e) for e in [
        {"event_name": "Signed Up", "event_id": "cli-1", "aliases": [
            "urn:email:jane.doe@gmail.com", "urn:customer_id:42"]},
        {"event_name": "Placed Order", "event_id": "cli-2", "aliases": [
            "urn:customer_id:42", "urn:cookie:tablet-7"]},
    ]) + "\n")
    imported = cli("import", str(events), "--source", "shop-backend", home=home, cwd=tmp_path)
    assert imported.returncode == 0, imported.stdout + imported.stderr

    shown = cli("cluster", "--alias", "urn:customer_id:42", home=home, cwd=tmp_path)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "urn:email:jane.doe@gmail.com" in shown.stdout
    assert "urn:cookie:tablet-7" in shown.stdout


def test_the_query_library_works_with_no_neo4j_variable_set(home: Path, tmp_path: Path) -> None:
    res = cli("query", "person_timeline", "--param", "urn=urn:customer_id:42",
              "--format", "table", home=home, cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr


def test_serve_is_ready_with_no_neo4j_variable_set(home: Path, tmp_path: Path) -> None:
    """/readyz answers 200 only when Neo4j accepted the API's credentials."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "CVG_"))}
    env["CVG_LOCAL_NEO4J_HOME"] = str(home)
    proc = subprocess.Popen([str(CLI), "serve", "--port", str(port)], cwd=tmp_path, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        status, deadline = None, time.monotonic() + 60
        while status != 200 and time.monotonic() < deadline and proc.poll() is None:
            with contextlib.suppress(httpx.TransportError):
                status = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code
            time.sleep(0.3)
        assert status == 200, f"serve never became ready (last status {status})"
    finally:
        proc.terminate()
        proc.wait(20)


def test_without_the_password_file_the_error_says_where_the_password_was_looked_for(
        home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "run"
    elsewhere.mkdir()
    (elsewhere / "instance.json").write_text((home / "instance.json").read_text())
    res = cli("cluster", "--alias", "urn:customer_id:42", home=elsewhere, cwd=tmp_path)
    assert res.returncode == 2
    assert "refused our credentials" in res.stdout
    assert f"{elsewhere / 'password'} does not exist" in res.stdout
    assert "NEO4J_PASSWORD" in res.stdout


def test_the_environment_wins_over_the_local_password(home: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEO4J_", "CVG_"))}
    env.update(CVG_LOCAL_NEO4J_HOME=str(home), NEO4J_PASSWORD="wrong-on-purpose")
    res = subprocess.run([str(CLI), "cluster", "--alias", "urn:customer_id:42"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "refused our credentials" in res.stdout
    assert "password: NEO4J_PASSWORD" in res.stdout
