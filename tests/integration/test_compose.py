"""docker-compose.yml is valid and wires the API to a healthy, pinned Neo4j.

Checked without a Docker engine: `docker compose config` (plugin) where it exists,
else Debian's `docker-compose config` (`make test` installs it when missing).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"


def _works(cmd: list[str]) -> bool:
    if shutil.which(cmd[0]) is None:
        return False
    try:
        return subprocess.run(cmd + ["version"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.fixture(scope="module")
def compose() -> list[str]:
    for cmd in (["docker", "compose"], ["docker-compose"]):
        if _works(cmd):
            return cmd
    pytest.fail(
        "no compose file validator: neither `docker compose` nor `docker-compose` works. "
        "Install one: `apt-get install docker-compose` (`make test` does this when run as root)."
    )


def _config(compose: list[str], *args: str, password: str | None = "compose-test-pw"):
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPOSE_")}
    env.pop("NEO4J_PASSWORD", None)
    if password is not None:
        env["NEO4J_PASSWORD"] = password
    return subprocess.run(
        [*compose, "-f", str(COMPOSE_FILE), "config", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def test_compose_file_is_valid(compose: list[str]) -> None:
    res = _config(compose, "-q")
    assert res.returncode == 0, res.stderr


def test_compose_requires_a_password(compose: list[str]) -> None:
    res = _config(compose, "-q", password=None)
    assert res.returncode != 0
    assert "NEO4J_PASSWORD" in res.stderr


def test_compose_services(compose: list[str]) -> None:
    res = _config(compose)
    assert res.returncode == 0, res.stderr
    services = yaml.safe_load(res.stdout)["services"]

    neo4j = services["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert neo4j["environment"]["NEO4J_AUTH"] == "neo4j/compose-test-pw"
    assert "cypher-shell" in " ".join(neo4j["healthcheck"]["test"])
    assert neo4j["volumes"], "Neo4j data must live in a volume"

    api = services["api"]
    assert api["build"]["dockerfile"] == "Dockerfile"
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert api["environment"]["NEO4J_URI"] == "bolt://neo4j:7687"
    assert api["environment"]["NEO4J_PASSWORD"] == "compose-test-pw"


def test_a_docker_user_gets_tokens_and_reaches_neo4j_as_the_readme_says(
        compose: list[str]) -> None:
    """README's Docker path: `docker compose exec api converge-graph bootstrap` prints
    localhost URLs and can write its credentials; a host CLI reaches the published Bolt."""
    res = _config(compose)
    assert res.returncode == 0, res.stderr
    services = yaml.safe_load(res.stdout)["services"]
    assert services["api"]["environment"]["CVG_PUBLIC_URL"] == "http://localhost:8000"
    # "127.0.0.1:7687:7687/tcp" (docker-compose 1.x) or {"target": 7687, …} (the plugin)
    bolt = [p for p in services["neo4j"]["ports"]
            if (p.get("target") == 7687 if isinstance(p, dict) else ":7687:7687" in p)]
    assert bolt, "the host CLI needs Bolt published"

    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--create-home cvg" in dockerfile
    assert "CVG_LOCAL_NEO4J_HOME=/home/cvg/" in dockerfile  # writable by the cvg user

    readme = (ROOT / "README.md").read_text()
    docker = readme[readme.index("## Docker"):]
    assert "docker compose exec api converge-graph bootstrap" in docker
    assert "NEO4J_URI=bolt://127.0.0.1:7687" in docker
