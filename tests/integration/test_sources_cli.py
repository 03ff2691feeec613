"""`converge-graph sources`: a web source's allowed origins, set at creation and edited."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from converge_graph.cli import app
from converge_graph.core.trust import accepted_secrets
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


# -- signing secrets (docs/security.md#rotating-the-signing-secret) ----------------------


def test_the_signing_secret_status_never_shows_the_secret(cli):
    view = json.loads(cli("sources", "add", "shop", "--kind", "web", "--json"))
    out = cli("sources", "secret", "shop")
    assert "shop" in out and "has a signing secret" in out
    assert view["signing_secret"] not in out
    assert json.loads(cli("sources", "secret", "shop", "--json"))["previous_signs_until"] is None


def test_rotate_prints_the_new_secret_and_until_when_the_old_one_signs(cli, service):
    view = json.loads(cli("sources", "add", "shop", "--kind", "web", "--json"))
    rotated = json.loads(cli("sources", "secret", "shop", "--rotate", "--grace", "2h",
                             "--json"))
    assert rotated["signing_secret"].startswith("cvg_sign_")
    assert rotated["signing_secret"] != view["signing_secret"]
    until = datetime.fromisoformat(rotated["previous_signs_until"])
    assert timedelta(minutes=119) < until - datetime.now(UTC) <= timedelta(hours=2)
    source = service.source_for_token(view["token"], "web")
    assert accepted_secrets(source, datetime.now(UTC)) == [
        rotated["signing_secret"], view["signing_secret"]]
    out = cli("sources", "secret", "shop")
    assert "still signs until" in out and rotated["signing_secret"] not in out


def test_rotate_with_no_grace_says_the_old_secret_stopped_now(cli):
    cli("sources", "add", "shop", "--kind", "web")
    out = cli("sources", "secret", "shop", "--rotate", "--grace", "0")
    assert "signing_secret: cvg_sign_" in out
    assert "old secret stopped signing now" in out


def test_a_bad_grace_is_refused_naming_the_flag_and_rotates_nothing(cli, service):
    view = json.loads(cli("sources", "add", "shop", "--kind", "web", "--json"))
    assert "'3 weeks' is no duration" in " ".join(
        cli("sources", "secret", "shop", "--rotate", "--grace", "3 weeks", code=2).split())
    assert "between 0 and 30 days" in cli("sources", "secret", "shop", "--rotate",
                                          "--grace", "31d", code=2)
    assert "--grace goes with --rotate" in cli("sources", "secret", "shop", "--grace", "1h",
                                               code=2)
    source = service.source_for_token(view["token"], "web")
    assert accepted_secrets(source, datetime.now(UTC)) == [view["signing_secret"]]


def test_signing_secrets_belong_to_web_sources_only(cli):
    cli("sources", "add", "backend", "--kind", "webhook")
    out = cli("sources", "secret", "backend", "--rotate", code=2)
    assert "is a webhook datasource; signing secrets are for web datasources" in out
    assert "no datasource named 'nowhere'" in cli("sources", "secret", "nowhere", "--rotate",
                                                  code=2)
