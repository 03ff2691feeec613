"""`converge-graph demo load`: a sample data set a newcomer can look at, loaded twice.

Fifty customers: John Smith (customer 0, the guide's demo person), a household whose two
members share a tablet (customers 14 and 15), a visitor who types the placeholder
test@test.com (customer 11), and 46 others with one to three devices each.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import neo4j
import pytest
from typer.testing import CliRunner

from converge_graph.cli import app
from converge_graph.cli.demo import JOHN_CUSTOMER_ID, JOHN_EMAIL, generate
from converge_graph.service import Service
from converge_graph.settings import Settings
from tests.conftest import count_nodes

CUSTOMERS = 50


def scalar(driver: neo4j.Driver, query: str, **params: object) -> object:
    records, _, _ = driver.execute_query(query, params)
    return records[0][0]


@pytest.fixture
def load_demo(
    service: Service, monkeypatch: pytest.MonkeyPatch, neo4j_settings: Settings
) -> Callable[[], str]:
    """Runs the command as a user would, against the suite's (wiped) Neo4j."""
    monkeypatch.setenv("NEO4J_URI", neo4j_settings.neo4j_uri)
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_settings.neo4j_password)

    def run() -> str:
        outcome = CliRunner().invoke(
            app, ["demo", "load", "--customers", str(CUSTOMERS), "--seed", "1"])
        assert outcome.exit_code == 0, outcome.output
        return outcome.output

    return run


def test_demo_load_tells_john_smiths_story_and_loading_again_adds_nothing(
    load_demo: Callable[[], str], service: Service, driver: neo4j.Driver
) -> None:
    output = load_demo()
    assert f"{CUSTOMERS} customers" in output
    assert "What to look at first" in output
    assert f"converge-graph cluster --alias {JOHN_EMAIL}" in output
    assert "/browser/?cmd=edit&arg=" in output

    # John: a laptop and a phone joined by his email, the payment domain's cookie joined by
    # the checkout token, his customer id, and order X01 stored once though sent twice.
    john = service.cluster(service.lookup(JOHN_EMAIL))
    assert JOHN_EMAIL in john["aliases"] and JOHN_CUSTOMER_ID in john["aliases"]
    cookies = [urn for urn in john["aliases"] if urn.startswith("urn:cookie:")]
    checkouts = [urn for urn in john["aliases"] if urn.startswith("urn:checkout:")]
    assert len(cookies) == 3 and len(checkouts) == 1
    assert len(john["profiles"]) == 3
    assert {link["reason"] for link in john["links"]} == {"shared_alias"}
    assert john["merged_properties"] == {
        "$email": "john.smith@apple.com", "$first_name": "John", "$last_name": "Smith"}
    timeline = service.events(john["cluster_id"], 100, None)["events"]
    orders = [e for e in timeline if e["event_name"] == "Placed Order"]
    assert [o["event_id"] for o in orders] == ["X01"]
    assert scalar(driver, "MATCH (e:Event {event_id: 'X01'}) RETURN e.duplicates") == 1
    assert {e["datasource"] for e in timeline} == {"demo-web", "demo-webhook"}

    # Plausible volumes: every customer is someone, most did several things.
    shape = count_nodes(driver)
    planned = generate(CUSTOMERS, 1, datetime.now(UTC))
    stored_ids = {w.event_id for w in planned if w.method != "set"}
    assert shape["Event"] == len(stored_ids)
    assert 6 * CUSTOMERS <= shape["Event"] <= 30 * CUSTOMERS
    assert CUSTOMERS <= shape["Profile"] <= 5 * CUSTOMERS
    assert shape["Datasource"] == 2
    clusters = scalar(driver, "MATCH (p:Profile) RETURN count(DISTINCT p.cluster_id)")
    assert CUSTOMERS <= clusters < shape["Profile"]
    orders_sent_twice = scalar(driver, "MATCH (e:Event {event_name: 'Placed Order'}) "
                                       "WHERE e.duplicates = 1 RETURN count(e)")
    assert orders_sent_twice == scalar(driver, "MATCH (e:Event {event_name: 'Placed Order'}) "
                                               "RETURN count(e)") > 5

    # The family tablet: two people, one cookie, two customer ids — never one cluster.
    assert service.lookup("urn:customer_id:200014") != service.lookup("urn:customer_id:200015")
    # The placeholder email links nobody.
    assert scalar(driver, "MATCH (a:Alias {urn: 'urn:email:test@test.com'}) RETURN count(a)") == 0

    # Loading again: every event is a duplicate, no profile or datasource is added.
    again = load_demo()
    assert "0 stored" in again
    assert count_nodes(driver)["Event"] == shape["Event"]
    assert count_nodes(driver)["Profile"] == shape["Profile"]
    assert count_nodes(driver)["Datasource"] == 2
    assert service.cluster(service.lookup(JOHN_EMAIL))["aliases"] == john["aliases"]

    verified = CliRunner().invoke(app, ["verify"])
    assert verified.exit_code == 0, verified.output


def test_the_same_seed_generates_the_same_writes_and_more_customers_only_add() -> None:
    anchor = datetime(2026, 1, 15, tzinfo=UTC)
    small, again, large = generate(20, 7, anchor), generate(20, 7, anchor), generate(40, 7, anchor)
    assert small == again
    assert {w.event_id for w in small if w.event_id} <= {w.event_id for w in large if w.event_id}
    other = generate(20, 8, anchor)
    assert {w.event_id for w in other if w.event_id} & {w.event_id for w in small if w.event_id} \
        == {w.event_id for w in small if w.event_id and w.event_id.startswith(("demo-john", "X"))}
    assert max(w.timestamp for w in large) < anchor
