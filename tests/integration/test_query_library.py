"""Every query of cypher/queries/ against a small, readable graph on a real Neo4j.

The fixture tells two customers' stories and a few data-quality cases:

- John Smith browses on a laptop, checks out on his phone (the shared email joins
  them), and the shop's server posts his order; the browser sent the same order id,
  so that copy was suppressed and the server-side profile joined by `shared_event`.
- Jane Doe uses a desktop and a tablet, joined by her phone number; her desktop
  retried one page view twice, and she has an old visit 30 days back.
- A kiosk's cached cart token was seen by five profiles in five clusters (a hub);
  one kiosk visitor placed an order as their very first event; one never sent any.
- An empty profile with no alias and no event (an orphan).

Days are relative to today (UTC): day D is three days ago.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import neo4j
import pytest
from typer.testing import CliRunner

from converge_graph.cli.query import query_app
from converge_graph.core.cypher import GraphNode, GraphPath, LibraryQuery, load_library
from converge_graph.settings import Settings
from converge_graph.store.graph import Graph

ROOT = Path(__file__).resolve().parents[2]
JOHN = "urn:email:john.smith@apple.com"
DEMO = {
    "urn": JOHN,
    "limit": 25,
    "type": "email",
    "min_profiles": 3,
    "days": 7,
    "cluster_id": "c-john",
}

FIXTURE = """
WITH datetime.truncate('day', datetime.realtime('UTC')) - duration({days: 3}) AS d
CREATE (web:Datasource {source_id: 'src-web', name: 'Storefront', kind: 'web',
                        token_hash: 'h-web', created_at: d - duration({days: 60})})
CREATE (hook:Datasource {source_id: 'src-hook', name: 'Shopify backend', kind: 'webhook',
                         token_hash: 'h-hook', created_at: d - duration({days: 60})})
CREATE (email:Alias {urn: 'urn:email:john.smith@apple.com', type: 'email',
                     value: 'john.smith@apple.com', created_at: d})
CREATE (laptop:Alias {urn: 'urn:cookie:laptop-1', type: 'cookie', value: 'laptop-1', created_at: d})
CREATE (phone:Alias {urn: 'urn:cookie:phone-1', type: 'cookie', value: 'phone-1', created_at: d})
CREATE (cust:Alias {urn: 'urn:customer_id:1001', type: 'customer_id', value: '1001', created_at: d})
CREATE (desk:Alias {urn: 'urn:cookie:desktop-2', type: 'cookie', value: 'desktop-2', created_at: d})
CREATE (tab:Alias {urn: 'urn:cookie:tablet-2', type: 'cookie', value: 'tablet-2', created_at: d})
CREATE (tel:Alias {urn: 'urn:phone:+14155550123', type: 'phone', value: '+14155550123',
                   created_at: d})
CREATE (jane:Alias {urn: 'urn:email:jane.doe@icloud.com', type: 'email',
                    value: 'jane.doe@icloud.com', created_at: d})
CREATE (hub:Alias {urn: 'urn:cart_token:kiosk-7', type: 'cart_token', value: 'kiosk-7',
                   created_at: d})
CREATE (k1:Alias {urn: 'urn:cookie:kiosk-visitor-1', type: 'cookie', value: 'kiosk-visitor-1',
                  created_at: d})
CREATE (k2:Alias {urn: 'urn:cookie:kiosk-visitor-2', type: 'cookie', value: 'kiosk-visitor-2',
                  created_at: d})
CREATE (k3:Alias {urn: 'urn:cookie:kiosk-visitor-3', type: 'cookie', value: 'kiosk-visitor-3',
                  created_at: d})

CREATE (pA1:Profile {profile_id: 'p-john-laptop', cluster_id: 'c-john',
                     created_at: d + duration({hours: 10}), updated_at: d + duration({hours: 10}),
                     `$email`: 'john.smith@apple.com', `$first_name`: 'John'})
CREATE (pA2:Profile {profile_id: 'p-john-phone', cluster_id: 'c-john',
                     created_at: d + duration({days: 1, hours: 9}),
                     updated_at: d + duration({days: 1, hours: 9}),
                     `$email`: 'john.smith@apple.com'})
CREATE (pA3:Profile {profile_id: 'p-john-server', cluster_id: 'c-john',
                     created_at: d + duration({days: 1, hours: 9, minutes: 30}),
                     updated_at: d + duration({days: 1, hours: 9, minutes: 30})})
CREATE (pB1:Profile {profile_id: 'p-jane-desktop', cluster_id: 'c-jane',
                     created_at: d - duration({days: 30}), updated_at: d + duration({hours: 11}),
                     `$email`: 'jane.doe@icloud.com'})
CREATE (pB2:Profile {profile_id: 'p-jane-tablet', cluster_id: 'c-jane',
                     created_at: d + duration({days: 2, hours: 8}),
                     updated_at: d + duration({days: 2, hours: 8})})
CREATE (h1:Profile {profile_id: 'p-kiosk-1', cluster_id: 'c-kiosk-1',
                    created_at: d + duration({hours: 12}), updated_at: d + duration({hours: 12})})
CREATE (h2:Profile {profile_id: 'p-kiosk-2', cluster_id: 'c-kiosk-2',
                    created_at: d + duration({hours: 12}), updated_at: d + duration({hours: 12})})
CREATE (h3:Profile {profile_id: 'p-kiosk-3', cluster_id: 'c-kiosk-3',
                    created_at: d + duration({hours: 13}), updated_at: d + duration({hours: 13})})
CREATE (po:Profile {profile_id: 'p-orphan', cluster_id: 'c-orphan', created_at: d, updated_at: d})

CREATE (pA1)-[:HAS_ALIAS {first_seen: d + duration({hours: 10}),
                          last_seen: d + duration({hours: 10, minutes: 5})}]->(laptop)
CREATE (pA1)-[:HAS_ALIAS {first_seen: d + duration({hours: 10, minutes: 5}),
                          last_seen: d + duration({hours: 10, minutes: 5})}]->(email)
CREATE (pA1)-[:HAS_ALIAS {first_seen: d + duration({hours: 10}),
                          last_seen: d + duration({hours: 10})}]->(hub)
CREATE (pA2)-[:HAS_ALIAS {first_seen: d + duration({days: 1, hours: 9}),
                          last_seen: d + duration({days: 1, hours: 9})}]->(phone)
CREATE (pA2)-[:HAS_ALIAS {first_seen: d + duration({days: 1, hours: 9}),
                          last_seen: d + duration({days: 1, hours: 9})}]->(email)
CREATE (pA3)-[:HAS_ALIAS {first_seen: d + duration({days: 1, hours: 9, minutes: 30}),
                          last_seen: d + duration({days: 1, hours: 9, minutes: 30})}]->(cust)
CREATE (pB1)-[:HAS_ALIAS {first_seen: d - duration({days: 30}),
                          last_seen: d + duration({hours: 11})}]->(desk)
CREATE (pB1)-[:HAS_ALIAS {first_seen: d + duration({hours: 11}),
                          last_seen: d + duration({hours: 11})}]->(jane)
CREATE (pB1)-[:HAS_ALIAS {first_seen: d + duration({hours: 11}),
                          last_seen: d + duration({hours: 11})}]->(tel)
CREATE (pB1)-[:HAS_ALIAS {first_seen: d + duration({hours: 11}),
                          last_seen: d + duration({hours: 11})}]->(hub)
CREATE (pB2)-[:HAS_ALIAS {first_seen: d + duration({days: 2, hours: 8}),
                          last_seen: d + duration({days: 2, hours: 8})}]->(tab)
CREATE (pB2)-[:HAS_ALIAS {first_seen: d + duration({days: 2, hours: 8}),
                          last_seen: d + duration({days: 2, hours: 8})}]->(tel)
CREATE (h1)-[:HAS_ALIAS {first_seen: d + duration({hours: 12}),
                         last_seen: d + duration({hours: 12})}]->(k1)
CREATE (h1)-[:HAS_ALIAS {first_seen: d + duration({hours: 12}),
                         last_seen: d + duration({hours: 12})}]->(hub)
CREATE (h2)-[:HAS_ALIAS {first_seen: d + duration({hours: 12}),
                         last_seen: d + duration({hours: 12})}]->(k2)
CREATE (h2)-[:HAS_ALIAS {first_seen: d + duration({hours: 12}),
                         last_seen: d + duration({hours: 12})}]->(hub)
CREATE (h3)-[:HAS_ALIAS {first_seen: d + duration({hours: 13}),
                         last_seen: d + duration({hours: 13})}]->(k3)
CREATE (h3)-[:HAS_ALIAS {first_seen: d + duration({hours: 13}),
                         last_seen: d + duration({days: 1, hours: 13})}]->(hub)

CREATE (pA2)-[:SAME_AS {via: ['urn:email:john.smith@apple.com'], reason: 'shared_alias',
                        created_at: d + duration({days: 1, hours: 9})}]->(pA1)
CREATE (pA3)-[:SAME_AS {via: [], event_id: 'order-1001', reason: 'shared_event',
                        created_at: d + duration({days: 1, hours: 9, minutes: 31})}]->(pA2)
CREATE (pB2)-[:SAME_AS {via: ['urn:phone:+14155550123'], reason: 'shared_alias',
                        created_at: d + duration({days: 2, hours: 8})}]->(pB1)

CREATE (pA1)-[:PERFORMED]->(:Event {event_id: 'evt-john-1', event_name: 'Page View',
    method: 'track', timestamp: d + duration({hours: 10}), received_at: d + duration({hours: 10}),
    source_id: 'src-web', properties_json: '{"url": "https://shop.example/"}',
    `prop.url`: 'https://shop.example/'})-[:FROM]->(web)
CREATE (pA1)-[:PERFORMED]->(:Event {event_id: 'evt-john-2', event_name: 'Viewed Product',
    method: 'track', timestamp: d + duration({hours: 10, minutes: 5}),
    received_at: d + duration({hours: 10, minutes: 5}), source_id: 'src-web',
    properties_json: '{"sku": "IPH-15"}', `prop.sku`: 'IPH-15'})-[:FROM]->(web)
CREATE (pA2)-[:PERFORMED]->(:Event {event_id: 'evt-john-3', event_name: 'Started Checkout',
    method: 'track', timestamp: d + duration({days: 1, hours: 9}),
    received_at: d + duration({days: 1, hours: 9}), source_id: 'src-web',
    properties_json: '{}'})-[:FROM]->(web)
CREATE (pA3)-[:PERFORMED]->(:Event {event_id: 'order-1001', event_name: 'Placed Order',
    method: 'track', timestamp: d + duration({days: 1, hours: 9, minutes: 30}),
    received_at: d + duration({days: 1, hours: 9, minutes: 30}), source_id: 'src-hook',
    properties_json: '{"total": 1299.0}', `prop.total`: 1299.0,
    duplicates: 1, duplicate_sources: ['src-web']})-[:FROM]->(hook)
CREATE (pB1)-[:PERFORMED]->(:Event {event_id: 'evt-jane-0', event_name: 'Page View',
    method: 'track', timestamp: d - duration({days: 30}), received_at: d - duration({days: 30}),
    source_id: 'src-web', properties_json: '{}'})-[:FROM]->(web)
CREATE (pB1)-[:PERFORMED]->(:Event {event_id: 'evt-jane-1', event_name: 'Page View',
    method: 'track', timestamp: d + duration({hours: 11}), received_at: d + duration({hours: 11}),
    source_id: 'src-web', properties_json: '{}',
    duplicates: 2, duplicate_sources: ['src-web', 'src-web']})-[:FROM]->(web)
CREATE (pB1)-[:PERFORMED]->(:Event {event_id: 'evt-jane-2', event_name: 'Submitted Form',
    method: 'track', timestamp: d + duration({hours: 11, minutes: 2}),
    received_at: d + duration({hours: 11, minutes: 2}), source_id: 'src-web',
    properties_json: '{"formId": "newsletter"}', `prop.formId`: 'newsletter'})-[:FROM]->(web)
CREATE (pB2)-[:PERFORMED]->(:Event {event_id: 'evt-jane-3', event_name: 'Viewed Product',
    method: 'track', timestamp: d + duration({days: 2, hours: 8}),
    received_at: d + duration({days: 2, hours: 8}), source_id: 'src-web',
    properties_json: '{"sku": "IPAD-AIR"}', `prop.sku`: 'IPAD-AIR'})-[:FROM]->(web)
CREATE (h1)-[:PERFORMED]->(:Event {event_id: 'evt-kiosk-1', event_name: 'Page View',
    method: 'track', timestamp: d + duration({hours: 12}), received_at: d + duration({hours: 12}),
    source_id: 'src-web', properties_json: '{}'})-[:FROM]->(web)
CREATE (h2)-[:PERFORMED]->(:Event {event_id: 'order-2002', event_name: 'Placed Order',
    method: 'forward', timestamp: d + duration({hours: 12, minutes: 10}),
    received_at: d + duration({hours: 12, minutes: 10}), source_id: 'src-hook',
    properties_json: '{"total": 15.0}', `prop.total`: 15.0})-[:FROM]->(hook)

CREATE (:Cluster {cluster_id: 'c-john', size: 3, created_at: d})
CREATE (:Cluster {cluster_id: 'c-jane', size: 2, created_at: d})
CREATE (:Cluster {cluster_id: 'c-kiosk-1', size: 1, created_at: d})
CREATE (:Cluster {cluster_id: 'c-kiosk-2', size: 1, created_at: d})
CREATE (:Cluster {cluster_id: 'c-kiosk-3', size: 1, created_at: d})
CREATE (:Cluster {cluster_id: 'c-orphan', size: 1, created_at: d})
"""


@pytest.fixture(scope="module")
def driver(driver: neo4j.Driver, neo4j_settings) -> Iterator[neo4j.Driver]:
    """The suite's real Neo4j (tests/conftest.py), wiped and loaded with the fixture graph."""
    from tests.conftest import wipe

    Graph(driver, neo4j_settings).apply_schema()
    wipe(driver)
    driver.execute_query("CALL db.awaitIndexes(60)")
    driver.execute_query(FIXTURE)
    yield driver
    wipe(driver)


@pytest.fixture(scope="module")
def library() -> dict[str, LibraryQuery]:
    return load_library(ROOT / "cypher" / "queries")


@pytest.fixture(scope="module")
def today(driver: neo4j.Driver) -> date:
    records, _, _ = driver.execute_query("RETURN date.realtime('UTC') AS today")
    return records[0]["today"].to_native()


def rows(driver: neo4j.Driver, query: LibraryQuery, **given: Any) -> list[dict[str, Any]]:
    params = query.bind([f"{key}={value}" for key, value in given.items()])
    records, _, _ = driver.execute_query(query.statement, params,
                                         routing_=neo4j.RoutingControl.READ)
    return [dict(record.items()) for record in records]


def test_the_store_hands_out_graph_elements_as_core_types(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    query = library["browser_cluster"]
    found = Graph(driver, Settings()).library_rows(query.name, query.statement,
                                                   query.bind(["cluster_id=c-jane"]))
    tablet = next(r for r in found if r["profile"].key == "p-jane-tablet")
    assert isinstance(tablet["profile"], GraphNode) and tablet["profile"].labels == ("Profile",)
    [link] = tablet["links"]
    assert isinstance(link, GraphPath)
    assert [n.key for n in link.nodes] == ["p-jane-tablet", "p-jane-desktop"]
    assert link.relationships[0].type == "SAME_AS"


def pick(found: list[dict[str, Any]], *columns: str) -> list[tuple]:
    return [tuple(row[c] for c in columns) for row in found]


def day(value: Any) -> date:
    return value.to_native()


def seconds_between(start: Any, end: Any) -> float:
    return (end.to_native() - start.to_native()).total_seconds()


# -- every query ------------------------------------------------------------------------


def _names() -> list[str]:
    return sorted(path.stem for path in (ROOT / "cypher" / "queries").glob("*.cypher"))


@pytest.mark.parametrize("name", _names())
def test_every_query_parses_on_neo4j_and_plans_without_full_node_scans(
    driver: neo4j.Driver, library: dict[str, LibraryQuery], name: str
) -> None:
    query = library[name]
    params = {p.name: DEMO[p.name] for p in query.params}
    summary = driver.execute_query("EXPLAIN " + query.statement, params).summary

    operators: list[str] = []

    def walk(plan: dict[str, Any]) -> None:
        operators.append(plan["operatorType"].split("@")[0])
        for child in plan.get("children", []):
            walk(child)

    walk(summary.plan)
    assert "ProduceResults" in operators
    assert not {
        "AllNodesScan",
        "VarLengthExpand(All)",
        "VarLengthExpand(Into)",
        "ShortestPath",
        "StatefulShortestPath(All)",
    } & set(operators)


@pytest.mark.parametrize("name", _names())
def test_every_query_returns_exactly_the_columns_its_header_promises(
    driver: neo4j.Driver, library: dict[str, LibraryQuery], name: str
) -> None:
    query = library[name]
    params = {p.name: DEMO[p.name] for p in query.params}
    _, _, keys = driver.execute_query(query.statement, params, routing_=neo4j.RoutingControl.READ)
    assert tuple(keys) == query.returns


def test_every_clickable_guide_query_runs_on_neo4j(driver: neo4j.Driver) -> None:
    guide = (ROOT / "cypher" / "browser" / "guide.html").read_text(encoding="utf-8")
    blocks = re.findall(r'<pre[^>]*class="[^"]*\brunnable\b[^"]*"[^>]*>(.*?)</pre>', guide, re.S)
    cypher = [html.unescape(b).strip() for b in blocks if not b.lstrip().startswith(":")]

    assert len(cypher) >= 12
    for statement in cypher:
        records, _, _ = driver.execute_query(
            statement, {"cluster_id": "c-john"}, routing_=neo4j.RoutingControl.READ
        )
        if "john.smith@apple.com" in statement:
            assert records, statement


# -- one person ---------------------------------------------------------------------------


def test_cluster_by_alias_returns_every_device_of_the_person_even_those_without_the_alias(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["cluster_by_alias"], urn=JOHN)

    assert pick(found, "cluster_id", "profile_id", "email", "aliases", "events") == [
        (
            "c-john",
            "p-john-laptop",
            "john.smith@apple.com",
            ["urn:cart_token:kiosk-7", "urn:cookie:laptop-1", JOHN],
            2,
        ),
        ("c-john", "p-john-phone", "john.smith@apple.com", ["urn:cookie:phone-1", JOHN], 1),
        ("c-john", "p-john-server", None, ["urn:customer_id:1001"], 1),
    ]


def test_cluster_by_alias_of_an_unknown_alias_is_empty(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    assert rows(driver, library["cluster_by_alias"], urn="urn:email:nobody@nowhere.org") == []


def test_person_timeline_interleaves_devices_and_datasources_newest_first(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["person_timeline"], urn="urn:cookie:laptop-1", limit=10)

    assert pick(found, "event_id", "event_name", "profile_id", "device", "datasource") == [
        ("order-1001", "Placed Order", "p-john-server", None, "Shopify backend"),
        ("evt-john-3", "Started Checkout", "p-john-phone", "phone-1", "Storefront"),
        ("evt-john-2", "Viewed Product", "p-john-laptop", "laptop-1", "Storefront"),
        ("evt-john-1", "Page View", "p-john-laptop", "laptop-1", "Storefront"),
    ]
    assert found[0]["properties_json"] == '{"total": 1299.0}'
    assert found[0]["datasource_kind"] == "webhook"


def test_person_timeline_stops_at_the_limit(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["person_timeline"], urn=JOHN, limit=2)
    assert [row["event_id"] for row in found] == ["order-1001", "evt-john-3"]


def test_person_devices_and_sources_lists_each_profile_per_datasource(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["person_devices_and_sources"], urn="urn:customer_id:1001")

    assert pick(found, "profile_id", "cookies", "datasource", "datasource_kind", "events") == [
        ("p-john-laptop", ["laptop-1"], "Storefront", "web", 2),
        ("p-john-phone", ["phone-1"], "Storefront", "web", 1),
        ("p-john-server", [], "Shopify backend", "webhook", 1),
    ]
    laptop = found[0]
    assert seconds_between(laptop["first_seen"], laptop["last_seen"]) == 5 * 60


def test_browser_person_returns_the_cluster_as_paths_for_the_graph_view(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["browser_person"], urn=JOHN)

    profiles = {row["profile"]["profile_id"] for row in found}
    aliases = {path.end_node["urn"] for row in found for path in row["aliases"]}
    links = {
        (
            path.start_node["profile_id"],
            path.end_node["profile_id"],
            path.relationships[0]["reason"],
        )
        for row in found
        for path in row["links"]
    }
    assert profiles == {"p-john-laptop", "p-john-phone", "p-john-server"}
    assert aliases == {
        JOHN,
        "urn:cookie:laptop-1",
        "urn:cookie:phone-1",
        "urn:customer_id:1001",
        "urn:cart_token:kiosk-7",
    }
    assert links == {
        ("p-john-phone", "p-john-laptop", "shared_alias"),
        ("p-john-server", "p-john-phone", "shared_event"),
    }


def test_browser_cluster_draws_one_cluster_by_its_id(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["browser_cluster"], cluster_id="c-jane")

    assert sorted(row["profile"]["profile_id"] for row in found) == [
        "p-jane-desktop",
        "p-jane-tablet",
    ]
    by_profile = {row["profile"]["profile_id"]: row for row in found}
    assert sorted(p.end_node["urn"] for p in by_profile["p-jane-tablet"]["aliases"]) == [
        "urn:cookie:tablet-2",
        "urn:phone:+14155550123",
    ]
    [link] = by_profile["p-jane-tablet"]["links"]
    assert link.relationships[0]["via"] == ["urn:phone:+14155550123"]
    assert by_profile["p-jane-desktop"]["links"] == []


# -- merges and evidence ------------------------------------------------------------------


def test_profiles_merged_via_email_shows_the_link_and_its_evidence(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["profiles_merged_via_alias_type"], type="email")

    assert pick(found, "from_profile", "to_profile", "cluster_id", "via", "reason") == [
        ("p-john-phone", "p-john-laptop", "c-john", [JOHN], "shared_alias"),
    ]


def test_profiles_merged_via_phone_does_not_confuse_types(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["profiles_merged_via_alias_type"], type="phone")
    assert pick(found, "from_profile", "to_profile", "via") == [
        ("p-jane-tablet", "p-jane-desktop", ["urn:phone:+14155550123"])
    ]
    assert rows(driver, library["profiles_merged_via_alias_type"], type="cookie") == []


def test_largest_clusters_come_first_with_their_evidence(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["largest_clusters"], limit=3)

    assert pick(
        found,
        "cluster_id",
        "profiles",
        "links",
        "reasons",
        "evidence",
        "emails",
        "customer_ids",
        "events",
    ) == [
        ("c-john", 3, 2, ["shared_alias", "shared_event"], [JOHN], 1, 1, 4),
        ("c-jane", 2, 1, ["shared_alias"], ["urn:phone:+14155550123"], 1, 0, 4),
        ("c-kiosk-1", 1, 0, [], [], 0, 0, 1),
    ]


def test_merges_per_day_counts_links_by_day_and_reason(
    driver: neo4j.Driver, library: dict[str, LibraryQuery], today: date
) -> None:
    found = rows(driver, library["merges_per_day"], days=7)

    assert [(day(r["day"]), r["reason"], r["merges"], r["evidence_types"]) for r in found] == [
        (today - timedelta(days=1), "shared_alias", 1, ["phone"]),
        (today - timedelta(days=2), "shared_alias", 1, ["email"]),
        (today - timedelta(days=2), "shared_event", 1, []),
    ]
    assert len(rows(driver, library["merges_per_day"], days=1)) == 1


# -- conversions ----------------------------------------------------------------------------


def test_conversion_path_starts_at_the_first_touch_on_another_device(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["conversion_paths"], limit=10)

    john = found[0]
    assert john["order_event_id"] == "order-1001"
    assert john["order_total"] == 1299.0
    assert (john["buyer_profile_id"], john["first_touch_profile_id"]) == (
        "p-john-server",
        "p-john-laptop",
    )
    assert (john["first_touch_event"], john["first_touch_datasource"]) == (
        "Page View",
        "Storefront",
    )
    assert (john["touches"], john["devices"]) == (3, 2)
    assert john["path"] == ["Page View", "Viewed Product", "Started Checkout"]
    assert john["seconds_to_convert"] == 23 * 3600 + 30 * 60
    assert john["time_to_convert"].seconds == 23 * 3600 + 30 * 60


def test_an_order_that_is_the_first_event_has_no_first_touch(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["conversion_paths"], limit=10)

    assert [row["order_event_id"] for row in found] == ["order-1001", "order-2002"]
    kiosk = found[1]
    assert (kiosk["cluster_id"], kiosk["touches"], kiosk["path"]) == ("c-kiosk-2", 0, [])
    assert kiosk["first_touch_at"] is None and kiosk["seconds_to_convert"] is None
    assert [r["order_event_id"] for r in rows(driver, library["conversion_paths"], limit=1)] == [
        "order-1001"
    ]


# -- data quality -------------------------------------------------------------------------


def test_hub_aliases_find_the_cart_token_shared_by_five_clusters(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["hub_aliases"], min_profiles=3)

    assert pick(found, "urn", "type", "profiles", "clusters") == [
        ("urn:cart_token:kiosk-7", "cart_token", 5, 5)
    ]
    assert seconds_between(found[0]["first_seen"], found[0]["last_seen"]) == 27 * 3600
    email_too = rows(driver, library["hub_aliases"], min_profiles=2)
    assert pick(email_too, "urn", "profiles", "clusters") == [
        ("urn:cart_token:kiosk-7", 5, 5),
        (JOHN, 2, 1),
        ("urn:phone:+14155550123", 2, 1),
    ]


def test_orphan_profiles_puts_empty_shells_first_then_profiles_without_events(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["orphan_profiles"])

    assert pick(found, "profile_id", "reason", "aliases", "events", "links", "cluster_size") == [
        ("p-orphan", "no_aliases_no_events", 0, 0, 0, 1),
        ("p-kiosk-3", "no_events", 2, 0, 0, 1),
    ]


def test_duplicates_per_datasource_counts_suppressed_copies_by_sender(
    driver: neo4j.Driver, library: dict[str, LibraryQuery]
) -> None:
    found = rows(driver, library["duplicates_per_datasource"])

    assert pick(
        found, "source_id", "name", "kind", "stored", "suppressed", "events", "from_other_sources"
    ) == [
        ("src-web", "Storefront", "web", 8, 3, 2, 1),
        ("src-hook", "Shopify backend", "webhook", 2, 0, 0, 0),
    ]


def test_events_per_datasource_per_day_covers_only_the_window(
    driver: neo4j.Driver, library: dict[str, LibraryQuery], today: date
) -> None:
    columns = ("source_id", "events", "profiles", "duplicates")
    found = rows(driver, library["events_per_datasource_per_day"], days=7)

    assert [(day(r["day"]), *(r[c] for c in columns)) for r in found] == [
        (today - timedelta(days=1), "src-web", 1, 1, 0),
        (today - timedelta(days=2), "src-hook", 1, 1, 1),
        (today - timedelta(days=2), "src-web", 1, 1, 0),
        (today - timedelta(days=3), "src-hook", 1, 1, 0),
        (today - timedelta(days=3), "src-web", 5, 3, 2),
    ]
    recent = rows(driver, library["events_per_datasource_per_day"], days=2)
    assert {day(r["day"]) for r in recent} == {today - timedelta(days=1), today - timedelta(days=2)}
    whole = rows(driver, library["events_per_datasource_per_day"], days=40)
    assert sum(r["events"] for r in whole) == 10


# -- command line -------------------------------------------------------------------------


@pytest.fixture
def cli_env(driver: neo4j.Driver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEO4J_PASSWORD", "")
    monkeypatch.setenv("CVG_CYPHER_DIR", str(ROOT / "cypher"))


def test_cli_lists_every_query_with_its_description(
    cli_env: None, library: dict[str, LibraryQuery]
) -> None:
    result = CliRunner().invoke(query_app, ["--list"])

    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.replace("│", " ").split())
    for query in library.values():
        assert query.name in flat
        assert " ".join(query.description.split()[:4]) in flat


def test_cli_runs_a_query_as_json(cli_env: None) -> None:
    import json

    result = CliRunner().invoke(
        query_app, ["person_timeline", "--param", f"urn={JOHN}", "-p", "limit=2", "-f", "json"]
    )

    assert result.exit_code == 0, result.output
    events = json.loads(result.output)
    assert [e["event_id"] for e in events] == ["order-1001", "evt-john-3"]
    assert events[0]["timestamp"].endswith("09:30:00+00:00")


def test_cli_runs_a_query_as_csv_and_as_a_table(cli_env: None) -> None:
    csv_out = CliRunner().invoke(query_app, ["hub_aliases", "--format", "csv"])
    assert csv_out.exit_code == 0, csv_out.output
    header, first = csv_out.output.splitlines()[:2]
    assert header == "urn,type,profiles,clusters,first_seen,last_seen"
    assert first.startswith("urn:cart_token:kiosk-7,cart_token,5,5,2")

    table = CliRunner().invoke(query_app, ["orphan_profiles"])
    assert table.exit_code == 0, table.output
    assert "p-orphan" in table.output and "no_aliases_no_events" in table.output


def test_cli_names_the_wrong_parameter_and_what_it_takes(cli_env: None) -> None:
    wrong_type = CliRunner().invoke(query_app, ["hub_aliases", "--param", "limit=many"])
    assert wrong_type.exit_code == 2
    assert "limit takes an int" in wrong_type.output

    missing = CliRunner().invoke(query_app, ["person_timeline"])
    assert missing.exit_code == 2
    assert "needs --param urn=" in missing.output

    unknown = CliRunner().invoke(query_app, ["no_such_query"])
    assert unknown.exit_code == 2
    assert "--list" in unknown.output
