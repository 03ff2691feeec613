"""The API SIGKILLed while its delivery workers are sending (docs/destinations.md#delivery).

Deliveries are recorded in the transaction that stored their events, and marked delivered
only after the receiver's 2xx. So after a crash every event still arrives — at least
once: an item in flight when the process died is sent again once its lease runs out,
under the same ``webhook-id``, which is how a receiver recognises the repeat.
"""

from __future__ import annotations

import time

import httpx2 as httpx
import neo4j

from converge_graph.core.policy import Policy
from converge_graph.service import Service
from converge_graph.store.graph import Graph
from tests.conftest import wipe
from tests.procs import ApiProcess
from tests.receiver import Receiver

EVENTS = 40
FAST = {"CVG_DELIVERY_LEASE_SECONDS": "3", "CVG_DELIVERY_TIMEOUT_SECONDS": "1",
        "CVG_RETRY_FIRST_SECONDS": "0.2", "CVG_RETRY_MAX_SECONDS": "1",
        "CVG_DELIVERY_POLL_SECONDS": "0.2", "CVG_DELIVERY_BATCH": "4"}


def delivered_in_graph(driver: neo4j.Driver) -> int:
    records, _, _ = driver.execute_query(
        "MATCH (x:Delivery {status: 'delivered'}) RETURN count(x) AS n")
    return records[0]["n"]


def test_api_killed_mid_delivery_loses_nothing_and_repeats_share_a_webhook_id(
    driver, neo4j_settings, tmp_path
):
    wipe(driver)
    service = Service(Graph(driver, neo4j_settings), neo4j_settings, Policy())
    token = service.add_source("backend", "webhook")["token"]
    receiver = Receiver(delay=0.3).start()
    service.add_destination("crm", receiver.url)
    api = ApiProcess(neo4j_settings.neo4j_uri, tmp_path / "api.log",
                     password=neo4j_settings.neo4j_password, extra_env=FAST).start()
    try:
        for n in range(EVENTS):
            resp = httpx.post(f"{api.base}/v1/webhook/{token}", timeout=10, json={
                "event_name": "Placed Order", "event_id": f"K-{n}",
                "aliases": [f"urn:customer_id:{n}"]})
            assert resp.status_code == 200, resp.text
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # kill while a send is in flight
            with receiver.lock:
                busy = sum(receiver.in_flight.values())
            if busy and len(receiver.received) >= 3:
                break
            time.sleep(0.01)
        assert busy, "no delivery was in flight to cut"
        api.kill()
        killed_after = len(receiver.received)
        time.sleep(0.5)
        api.start()
        receiver.delay = 0.0
        deadline = time.monotonic() + 90
        while delivered_in_graph(driver) < EVENTS and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        api.stop()
        receiver.stop()

    assert killed_after < EVENTS, "the crash came after everything was sent"
    ids_per_event: dict[str, set[str]] = {}
    for r in receiver.delivered():
        ids_per_event.setdefault(r.json()["data"]["event_id"], set()).add(r.id)
    assert set(ids_per_event) == {f"K-{n}" for n in range(EVENTS)}  # nothing lost
    assert all(len(ids) == 1 for ids in ids_per_event.values())  # repeats share the id
    assert delivered_in_graph(driver) == EVENTS
    print(f"\ndelivery crash: {len(receiver.delivered())} requests for {EVENTS} items "
          f"({len(receiver.delivered()) - EVENTS} repeats after the SIGKILL)")
