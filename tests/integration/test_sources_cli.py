"""`converge-graph sources`: a web source's allowed origins, set at creation and edited."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from converge_graph.cli import app
from converge_graph.service import Service
from converge_graph.settings import Settings


@pytest.fixture
def cli(service: Service, monkeypatch: pytest.MonkeyPatch, neo4j_settings: Settings):
    """Runs a command as a user would, against the suite's (wiped) Neo4j."""
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.neo4j_uri)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.neo4j_password)
    monkeypatch.setenv("CVG_PUBLIC_URL", "https://cvg.example")

    def run(*args: str, code: int = 0) -> str:
        outcome = CliRunner().invoke(app, list(args))
        assert outcome.exit_code == code, outcome.output
        return outcome.output

    return run


def test_a_web_source_is_created_with_its_origins_and_prints_them(cli, service):
    out = cli("sources", "add", "shop", "--kind", "web", "--origin", "https://Shop.example/",
              "--origin", "https://checkout.example", "--json")
    view = json.loads(out)
    assert view["origins"] == ["https://shop.example", "https://checkout.example"]
    assert view["snippet"].endswith(
        f'<script async src="https://cvg.example/v1/cvg.js?token={view["token"]}"></script>')
    assert service.source_for_token(view["token"], "web")["origins"] == view["origins"]


def test_a_web_source_without_origins_accepts_any(cli):
    view = json.loads(cli("sources", "add", "blog", "--kind", "web", "--json"))
    assert view["origins"] == []
    assert "origins=any" in cli("sources", "list")


def test_origins_are_added_and_removed_and_the_new_list_printed(cli):
    cli("sources", "add", "shop", "--kind", "web", "--origin", "https://shop.example")
    out = cli("sources", "origins", "shop", "--add", "https://checkout.example",
              "--remove", "https://shop.example", "--json")
    assert json.loads(out)["origins"] == ["https://checkout.example"]
    out = cli("sources", "origins", "shop", "--remove", "https://checkout.example")
    assert "accepts calls from any origin" in out


def test_a_bad_origin_is_refused_naming_the_flag_and_creates_nothing(cli, service):
    out = cli("sources", "add", "shop", "--kind", "web", "--origin",
              "https://shop.example/checkout", code=2)
    assert "--origin 'https://shop.example/checkout'" in out and "scheme://host[:port]" in out
    assert service.list_datasources() == []
    cli("sources", "add", "shop", "--kind", "web")
    out = cli("sources", "origins", "shop", "--add", "shop.example", code=2)
    assert "--add 'shop.example'" in out


def test_origins_belong_to_web_sources_only(cli):
    out = cli("sources", "add", "backend", "--kind", "webhook", "--origin",
              "https://shop.example", code=2)
    assert "--origin is for web datasources" in out
    cli("sources", "add", "backend", "--kind", "webhook")
    assert "is a webhook datasource" in cli("sources", "origins", "backend", "--add",
                                            "https://shop.example", code=2)
