"""`converge-graph policy check`: the existing clusters a policy would have kept apart,
among them those joined only through a device — a cookie, or a cart handed to the
checkout domain (docs/identity.md#device-hand-over)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from converge_graph.cli import app
from converge_graph.core.policy import Policy
from converge_graph.service import Service, Write
from converge_graph.settings import Settings
from converge_graph.store.graph import Graph


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, neo4j_settings: Settings):
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.neo4j_uri)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.neo4j_password)

    def run(*args: str, code: int) -> str:
        outcome = CliRunner().invoke(app, list(args))
        assert outcome.exit_code == code, outcome.output
        return outcome.output

    return run


def test_a_cluster_joined_only_by_a_cart_token_under_an_older_policy_is_reported(
        cli, clean: Graph, neo4j_settings: Settings, tmp_path: Path):
    # Written when cart tokens were not devices: mother and son joined through one cart.
    older = Policy(device_types=["cookie", "anonymous_id"])
    service = Service(clean, neo4j_settings, older)
    hook = service.add_source("shop", "webhook")
    service.ingest(Write(source=hook, method="track", event_name="Signed Up",
                         aliases=["urn:email:mum@family.com"]))
    service.ingest(Write(source=hook, method="track", event_name="Cart", aliases=[
        "urn:email:son@family.com", "urn:checkout:CART-1"]))
    mum = service.ingest(Write(source=hook, method="track", event_name="Order", aliases=[
        "urn:email:mum@family.com", "urn:checkout:CART-1"]))
    assert clean.cluster_by_alias("urn:email:son@family.com") == mum["cluster_id"]

    out = cli("policy", "check", code=1)  # the default policy: cart tokens are devices
    assert mum["cluster_id"][:16] in out  # the table may shorten the id to fit
    assert "1 clusters were joined only through a shared device" in " ".join(out.split())
    assert "session stitching: 30 minutes" in out
    assert "shared devices: own profile after a session" in out
    assert "hand-off tokens: checkout, checkout_token, cart, cart_token" in " ".join(out.split())
    assert ("a known person's first login on an anonymous device: takes its session only"
            in " ".join(out.split()))
    file = tmp_path / "older.toml"
    file.write_text('device_types = ["cookie", "anonymous_id"]\nsession_minutes = 0\n')
    out = cli("policy", "check", "--file", str(file), code=0)
    assert "no existing cluster breaks this policy" in out
    assert "session stitching: off" in out
    assert "shared devices: off" in out  # session_minutes = 0 turns it off too
    assert ("a known person's first login on an anonymous device: joins the device and its "
            "whole history" in " ".join(out.split()))
