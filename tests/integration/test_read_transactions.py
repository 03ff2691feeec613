"""Every read runs in a read transaction, so a Neo4j cluster (or Aura) can route it to a
secondary: the service's reads, run over a driver that refuses anything else, still work.

The driver below is the real one; it only refuses to open a write transaction, an
auto-commit query outside a read session, or an ``execute_query`` not routed to readers.
"""

from __future__ import annotations

from typing import Any

import neo4j
import pytest

from converge_graph.core.cypher import load_library
from converge_graph.core.policy import Policy
from converge_graph.service import Service, Write
from converge_graph.service.merges import Merges
from converge_graph.settings import Settings
from converge_graph.store.graph import Graph


class WriteAttempted(AssertionError):
    pass


class ReadOnlySession:
    def __init__(self, real: neo4j.Session, read_mode: bool) -> None:
        self.real, self.read_mode = real, read_mode

    def __enter__(self) -> ReadOnlySession:
        self.real.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.real.__exit__(*exc)

    def execute_read(self, work, *args: Any, **kwargs: Any):
        return self.real.execute_read(work, *args, **kwargs)

    def execute_write(self, *_: Any, **__: Any):
        raise WriteAttempted("a read opened a write transaction")

    def run(self, *args: Any, **kwargs: Any):
        if not self.read_mode:
            raise WriteAttempted("an auto-commit query outside a read session")
        return self.real.run(*args, **kwargs)


class ReadOnlyDriver:
    def __init__(self, real: neo4j.Driver) -> None:
        self.real = real

    def session(self, **kwargs: Any) -> ReadOnlySession:
        read_mode = kwargs.get("default_access_mode") == neo4j.READ_ACCESS
        return ReadOnlySession(self.real.session(**kwargs), read_mode)

    def execute_query(self, *args: Any, **kwargs: Any):
        if kwargs.get("routing_") != neo4j.RoutingControl.READ:
            raise WriteAttempted("execute_query not routed to readers")
        return self.real.execute_query(*args, **kwargs)


@pytest.fixture
def written(service: Service) -> dict[str, str]:
    hook = service.add_source("shop-server", "webhook")
    web = service.add_source("shop-web", "web")
    first = service.ingest(Write(source=web, method="track", event_name="Viewed",
                                 aliases=["urn:email:jo@shop.com"], cookie_id="laptop"))
    second = service.ingest(Write(source=web, method="track", event_name="Viewed",
                                  aliases=["urn:email:jo@shop.com"], cookie_id="phone"))
    order = service.ingest(Write(source=hook, method="track", event_name="Placed Order",
                                 event_id="ORD-1", aliases=["urn:email:jo@shop.com"],
                                 profile_properties={"$first_name": "Jo"}))
    return {"cluster": order["cluster_id"], "a": first["profile_id"],
            "b": second["profile_id"], "buyer": order["profile_id"]}


@pytest.fixture
def reader(driver: neo4j.Driver, neo4j_settings: Settings) -> Service:
    graph = Graph(ReadOnlyDriver(driver), neo4j_settings)  # type: ignore[arg-type]
    return Service(graph, neo4j_settings, Policy())


def test_the_refusing_driver_refuses_a_write(reader: Service) -> None:
    with pytest.raises(WriteAttempted):
        reader.add_key("read")


def test_every_read_runs_in_a_read_transaction(
    reader: Service, written: dict[str, str], neo4j_settings: Settings
) -> None:
    cluster = reader.lookup("urn:email:JO@shop.com")
    assert cluster == written["cluster"]
    # the two browsers and the backend's own profile (a browser's claim is never where a
    # trusted write lands: docs/security.md)
    assert len(reader.cluster(cluster)["profiles"]) == 3
    assert reader.profile(written["buyer"])["properties"] == {"$first_name": "Jo"}
    assert reader.event("ORD-1")["event_name"] == "Placed Order"
    assert len(reader.events(cluster, 10, None)["events"]) == 3
    assert Merges(reader).explain(cluster, written["a"], written["b"])
    assert reader.list_conflicts(10) == []
    assert reader.missing_schema() == set()
    assert reader.verify()[0] == []
    library = load_library(neo4j_settings.cypher_dir / "queries")
    timeline = library["person_timeline"]
    assert reader.library_rows(timeline, timeline.bind(["urn=urn:email:jo@shop.com"]))
