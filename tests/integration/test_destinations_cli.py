"""`converge-graph destinations`, `deliveries` and `deliver --once`, as an operator runs
them, against a real Neo4j and a real receiver."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from converge_graph.service import Write
from tests.receiver import Receiver

runner = CliRunner()


def cli(*args: str) -> str:
    from converge_graph.cli import app

    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_an_operator_adds_a_destination_delivers_and_retries_the_dead(service):
    receiver = Receiver(default=404).start()
    try:
        made = json.loads(cli("destinations", "add", "crm", "--url", receiver.url,
                              "--events", "Placed Order, Started Subscription",
                              "--methods", "forward", "--json"))
        assert made["events"] == ["Placed Order", "Started Subscription"]
        assert made["secret"].startswith("whsec_")
        hook = service.add_source("backend", "webhook")
        service.ingest(Write(source=hook, method="forward", event_name="Placed Order",
                             event_id="CLI-1", aliases=["urn:customer_id:7"]))
        assert "crm" in cli("destinations", "list")
        cli("deliver", "--once")
        dead = json.loads(cli("deliveries", "--status", "dead", "--json"))
        assert [(d["event_id"], d["response_status"]) for d in dead] == [("CLI-1", 404)]
        receiver.default = 200
        assert "1 deliveries put back in line" in cli("deliveries", "retry",
                                                      "--destination", "crm")
        cli("deliver", "--once")
        [got] = receiver.delivered()
        assert got.id == dead[0]["delivery_id"]
        cli("destinations", "disable", "crm")
        assert json.loads(cli("deliveries", "--json"))[0]["status"] == "delivered"
        assert "removed with 1 deliveries" in cli("destinations", "remove", "crm")
    finally:
        receiver.stop()


def test_adding_a_destination_with_a_bad_url_says_what_to_fix(service):
    from converge_graph.cli import app

    result = runner.invoke(app, ["destinations", "add", "x", "--url", "hooks.shop.test"])
    assert result.exit_code == 2
    assert "absolute http(s) URL" in result.output
