"""Settings find the `make run` server by themselves; what the environment sets wins, and
the generated password is never sent to any other server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converge_graph.settings import Settings

NEO4J_VARS = ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE", "CVG_BROWSER_URL")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A local instance folder as scripts/neo4j_local.py leaves it, and nothing set."""
    for name in NEO4J_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no .env file
    run = tmp_path / "run"
    run.mkdir()
    (run / "instance.json").write_text(json.dumps(
        {"bolt_port": 7690, "http_port": 7480, "auth": True}))
    (run / "password").write_text("generated-pw\n")
    monkeypatch.setenv("CVG_LOCAL_NEO4J_HOME", str(run))
    return run


def test_with_nothing_set_the_local_server_and_its_password_are_used(home: Path) -> None:
    s = Settings()
    assert s.neo4j_uri == "bolt://127.0.0.1:7690"
    assert s.neo4j_auth == ("neo4j", "generated-pw")
    assert s.browser_url == "http://localhost:7480/browser/"
    assert s.neo4j_password_source == str(home / "password")


def test_the_password_in_the_environment_wins(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEO4J_PASSWORD", "from-env")
    s = Settings()
    assert s.neo4j_auth == ("neo4j", "from-env")
    assert s.neo4j_password_source == "NEO4J_PASSWORD"


def test_an_empty_password_in_the_environment_means_no_auth(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEO4J_PASSWORD", "")
    assert Settings().neo4j_auth is None


def test_the_uri_in_the_environment_wins(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "bolt://127.0.0.1:7690")
    s = Settings()
    assert s.neo4j_uri == "bolt://127.0.0.1:7690"
    assert s.neo4j_auth == ("neo4j", "generated-pw")  # the same server: its password


def test_the_generated_password_is_never_sent_to_another_server(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEO4J_URI", "neo4j+s://abc.databases.neo4j.io")
    s = Settings()
    assert s.neo4j_uri == "neo4j+s://abc.databases.neo4j.io"
    assert s.neo4j_auth is None
    assert "NEO4J_PASSWORD is unset" in s.neo4j_password_source
    assert s.browser_url == "http://localhost:7474/browser/"  # not the local server's either


def test_another_user_does_not_get_the_generated_password(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("NEO4J_USER", "analyst")
    assert Settings().neo4j_auth is None


def test_arguments_win_like_the_environment(home: Path) -> None:
    s = Settings(NEO4J_URI="bolt://db:7687", NEO4J_PASSWORD="pw")
    assert (s.neo4j_uri, s.neo4j_auth) == ("bolt://db:7687", ("neo4j", "pw"))


def test_without_a_local_server_the_defaults_stand_and_say_why(home: Path, monkeypatch) -> None:
    monkeypatch.setenv("CVG_LOCAL_NEO4J_HOME", str(home.parent / "nowhere"))
    s = Settings()
    assert s.neo4j_uri == "bolt://127.0.0.1:7687"
    assert s.neo4j_auth is None
    assert "does not exist: run `make run` or set NEO4J_PASSWORD" in s.neo4j_password_source


def test_a_local_server_without_auth_needs_no_password(home: Path) -> None:
    (home / "instance.json").write_text(json.dumps({"bolt_port": 7690, "auth": False}))
    s = Settings()
    assert s.neo4j_uri == "bolt://127.0.0.1:7690"
    assert s.neo4j_auth is None
    assert "without auth" in s.neo4j_password_source


def test_the_default_home_is_the_repository_make_run_folder(monkeypatch) -> None:
    monkeypatch.delenv("CVG_LOCAL_NEO4J_HOME", raising=False)
    root = Path(__file__).resolve().parents[2]
    assert Settings().local_neo4j_home == root / ".neo4j" / "run"
