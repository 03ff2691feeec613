"""Destinations (docs/destinations.md): the outbox, delivery workers and what receivers
get, against a real Neo4j and a real HTTP receiver on loopback."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from standardwebhooks import Webhook

from converge_graph.core.policy import Policy
from converge_graph.service import Service, Write
from converge_graph.service.delivery import Deliverer
from converge_graph.service.merges import Merges
from tests.receiver import Receiver

FAST = {"retry_first_seconds": 0.05, "retry_max_seconds": 0.2,
        "delivery_poll_seconds": 0.05, "delivery_timeout_seconds": 2.0,
        "delivery_lease_seconds": 10.0}


@pytest.fixture
def fast(clean, neo4j_settings) -> Service:
    return Service(clean, neo4j_settings.model_copy(update=FAST), Policy())


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def sources(fast: Service) -> dict:
    return {"web": fast.add_source("shop-web", "web"),
            "hook": fast.add_source("shop-backend", "webhook")}


def browser(src: dict, cookie: str, method: str = "track", **kw) -> Write:
    return Write(source=src["web"], method=method, cookie_id=cookie, **kw)


def server(src: dict, method: str = "track", **kw) -> Write:
    return Write(source=src["hook"], method=method, **kw)


def deliveries(driver, **where) -> list[dict]:
    records, _, _ = driver.execute_query(
        "MATCH (x:Delivery) RETURN x {.*} AS x ORDER BY x.created_at")
    return [r["x"] for r in records
            if all(r["x"].get(k) == v for k, v in where.items())]


def run(service: Service, seconds: float = 0) -> Deliverer:
    d = Deliverer(service, workers=0)
    d.drain(10)
    if seconds:
        time.sleep(seconds)
        d.drain(10)
    d.stop()
    return d


# -- the story ----------------------------------------------------------------------------
def test_order_from_browser_and_server_arrives_once_enriched_with_email_from_other_device(
    fast, sources, receiver, driver
):
    dest = fast.add_destination("ads", receiver.url, events=["Placed Order"])
    # The phone: the shopper logs in; the email is known on that device only.
    fast.ingest(browser(sources, "phone", "set", aliases=["urn:email:Ann@Mailbox.org"],
                        profile_properties={"$first_name": "Ann"}))
    # The laptop: the thank-you page forwards the order; the backend reports it too,
    # with the customer's email, and the same event id.
    fast.ingest(browser(sources, "laptop", "forward", event_name="Placed Order",
                        event_id="ORDER-1", properties={"total": 25}))
    fast.ingest(browser(sources, "laptop", event_name="Viewed Page"))  # not in the filter
    second = fast.ingest(server(sources, "forward", event_name="Placed Order",
                                event_id="ORDER-1", properties={"total": 25},
                                aliases=["urn:email:ann@mailbox.org"]))
    assert second["deduplicated"]
    assert len(deliveries(driver)) == 1

    run(fast)
    [got] = receiver.delivered()
    body = Webhook(dest["secret"]).verify(got.body, got.headers)
    assert body["type"] == "event"
    data = body["data"]
    assert (data["event_id"], data["event_name"], data["method"]) == (
        "ORDER-1", "Placed Order", "forward")
    assert data["properties"] == {"total": 25}
    assert "urn:email:ann@mailbox.org" in data["aliases"]  # learned on the phone
    assert data["profile_properties"]["$first_name"] == "Ann"
    assert data["cluster_id"] == fast.lookup("urn:email:ann@mailbox.org")
    [row] = deliveries(driver)
    assert row["status"] == "delivered" and row["delivery_id"] == got.id


def test_a_signature_made_with_another_secret_does_not_verify(fast, sources, receiver):
    fast.add_destination("ads", receiver.url)
    fast.ingest(server(sources, event_name="Signed Up", aliases=["urn:email:a@b.co"]))
    run(fast)
    [got] = receiver.delivered()
    other = fast.add_destination("other", "http://127.0.0.1:9/x")["secret"]
    with pytest.raises(Exception, match="signature"):
        Webhook(other).verify(got.body, got.headers)


# -- retries ------------------------------------------------------------------------------
def test_a_receiver_failing_three_times_then_answering_gets_the_item_under_one_webhook_id(
    fast, sources, receiver, driver
):
    fast.add_destination("crm", receiver.url)
    receiver.script = [500, 503, 502]
    fast.ingest(server(sources, event_name="Placed Order", event_id="O-7"))
    worker = Deliverer(fast, workers=1)
    worker.start()
    try:
        receiver.wait_for(1)
    finally:
        worker.stop()
    assert [r.answered for r in receiver.received] == [500, 503, 502, 200]
    assert len({r.id for r in receiver.received}) == 1
    [row] = deliveries(driver)
    assert (row["status"], row["attempts"]) == ("delivered", 4)


def test_retry_after_is_honoured(fast, sources, receiver):
    fast.add_destination("crm", receiver.url)
    receiver.script = [(429, {"Retry-After": "1"})]
    fast.ingest(server(sources, event_name="E", event_id="O-8"))
    worker = Deliverer(fast, workers=1)
    worker.start()
    try:
        first, second = receiver.wait_for(2, delivered=False)
    finally:
        worker.stop()
    assert second.at - first.at >= 0.9  # not the 50 ms backoff of these settings


def test_a_4xx_answer_is_dead_at_once_with_the_receivers_answer(fast, sources, receiver,
                                                                 driver):
    fast.add_destination("crm", receiver.url)
    receiver.default = 400
    fast.ingest(server(sources, event_name="E", event_id="O-9"))
    run(fast, 0.3)
    assert len(receiver.received) == 1
    [row] = deliveries(driver)
    assert row["status"] == "dead" and row["response_status"] == 400
    assert '"status": 400' in row["response_body"]
    assert fast.deliveries(status="dead")[0]["delivery_id"] == row["delivery_id"]
    receiver.default = 200
    assert fast.retry_deliveries("crm") == 1
    run(fast)
    assert receiver.delivered()[0].id == row["delivery_id"]


def test_retries_stop_at_the_end_of_the_window(clean, neo4j_settings, sources, receiver,
                                               driver):
    service = Service(clean, neo4j_settings.model_copy(
        update={**FAST, "retry_window_seconds": 1.5}), Policy())
    service.add_destination("crm", receiver.url)
    receiver.default = 503
    service.ingest(server(sources, event_name="E", event_id="O-10"))
    worker = Deliverer(service, workers=1)
    worker.start()
    try:
        deadline = time.monotonic() + 10
        while not deliveries(driver, status="dead") and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    [row] = deliveries(driver)
    assert row["status"] == "dead" and "retry window" in row["reason"]
    assert row["attempts"] == len(receiver.received) >= 2


def test_a_receiver_down_for_a_while_gets_everything_once_it_is_back(fast, sources, driver):
    down = Receiver().start()
    port = down.port
    down.stop()
    fast.add_destination("crm", f"http://127.0.0.1:{port}/hook")
    worker = Deliverer(fast, workers=2)
    worker.start()
    try:
        for n in range(20):
            fast.ingest(server(sources, event_name="E", event_id=f"D-{n}"))
        time.sleep(1.0)  # every item fails at least once meanwhile
        assert not deliveries(driver, status="delivered")
        back = Receiver(port=port).start()
        try:
            back.wait_for(20)
            time.sleep(0.3)
        finally:
            back.stop()
    finally:
        worker.stop()
    got = {r.json()["data"]["event_id"] for r in back.delivered()}
    assert got == {f"D-{n}" for n in range(20)}
    assert all(row["attempts"] >= 2 for row in deliveries(driver))


# -- concurrency --------------------------------------------------------------------------
def test_two_workers_never_send_one_item_at_the_same_moment(fast, clean, neo4j_settings,
                                                          sources, receiver, driver):
    fast.add_destination("crm", receiver.url)
    receiver.delay = 0.02
    fast.ingest_batch([server(sources, event_name="E", event_id=f"C-{n}")
                       for n in range(80)])
    other = Service(clean, neo4j_settings.model_copy(update=FAST), Policy())
    workers = [Deliverer(fast, workers=3), Deliverer(other, workers=3)]
    for w in workers:
        w.start()
    try:
        receiver.wait_for(80, timeout=60)
        time.sleep(0.3)
    finally:
        for w in workers:
            w.stop()
    assert receiver.max_in_flight_per_id == 1
    sent = Counter(r.id for r in receiver.received)
    assert len(sent) == 80 and set(sent.values()) == {1}
    assert len(deliveries(driver, status="delivered")) == 80


# -- identity changes ---------------------------------------------------------------------
def test_a_merge_and_a_split_emit_their_identity_events(fast, sources, receiver, driver):
    dest = fast.add_destination("warehouse", receiver.url, identity_events=True,
                                purpose="analytics", events=["none"])
    a = fast.ingest(server(sources, event_name="E", aliases=["urn:email:a@x.co"]))
    b = fast.ingest(server(sources, event_name="E", aliases=["urn:customer_id:42"]))
    joined = fast.ingest(server(sources, event_name="E", event_id="J-1",
                                aliases=["urn:email:a@x.co", "urn:customer_id:42"]))
    Merges(fast).unmerge(alias="urn:email:a@x.co")  # the evidence of the merge
    run(fast)
    bodies = [Webhook(dest["secret"]).verify(r.body, r.headers)
              for r in receiver.delivered()]
    assert [b["type"] for b in bodies] == ["identity.merged", "identity.split"]
    merged, split = bodies[0]["data"], bodies[1]["data"]
    assert merged["cluster_id"] == joined["cluster_id"]
    assert merged["absorbed_cluster_ids"] == sorted(
        {a["cluster_id"], b["cluster_id"]} - {joined["cluster_id"]})
    assert {e["reason"] for e in merged["evidence"]} and all(
        e["event_id"] == "J-1" for e in merged["evidence"])
    assert split["cluster_id"] == joined["cluster_id"]
    assert len(split["split_into"]) == 2
    assert split["evidence_removed"] == {"alias": "urn:email:a@x.co"}


def test_a_manual_link_emits_identity_merged(fast, sources, receiver):
    fast.add_destination("warehouse", receiver.url, identity_events=True)
    a = fast.ingest(server(sources, "set", aliases=["urn:email:a@x.co"]))
    b = fast.ingest(server(sources, "set", aliases=["urn:email:b@x.co"]))
    linked = Merges(fast).link(a["profile_id"], b["profile_id"], "same person, by phone")
    run(fast)
    [got] = receiver.delivered()
    data = got.json()["data"]
    assert got.json()["type"] == "identity.merged"
    assert data["cluster_id"] == linked["cluster_id"]
    assert data["evidence"][0]["reason"] == "manual"


# -- consent and erasure ------------------------------------------------------------------
def test_consent_denied_is_skipped_for_marketing_and_recorded(fast, sources, receiver, driver):
    fast.add_destination("ads", receiver.url, purpose="marketing")
    fast.add_destination("stats", receiver.url + "?stats", purpose="analytics")
    fast.ingest(browser(sources, "c1", "set",
                        profile_properties={"$consent": {"marketing": "denied",
                                                         "analytics": "granted"}}))
    fast.ingest(browser(sources, "c1", event_name="Placed Order", event_id="P-1"))
    run(fast)
    ads = fast.deliveries(destination="ads")
    assert [(d["status"], d["reason"]) for d in ads] == [
        ("skipped", "consent: marketing denied by the person ($consent.marketing)")]
    assert ads[0]["attempts"] == 0
    assert [d["status"] for d in fast.deliveries(destination="stats")] == ["delivered"]
    assert len(receiver.received) == 1


def test_erasure_drops_pending_deliveries_and_emits_identity_erased(fast, sources, receiver,
                                                                   driver):
    fast.add_destination("ads", receiver.url, identity_events=True)
    done = fast.ingest(server(sources, event_name="E", event_id="X-1",
                              aliases=["urn:email:gone@x.co"]))
    fast.ingest(server(sources, event_name="E", event_id="X-2",
                       aliases=["urn:email:gone@x.co"]))
    other = fast.ingest(server(sources, event_name="E", event_id="Y-1",
                               aliases=["urn:email:stays@x.co"]))
    assert len(deliveries(driver, status="pending")) == 3
    Merges(fast).erase(done["cluster_id"])
    left = deliveries(driver)
    assert [d.get("event_id") or d["topic"] for d in left] == ["Y-1", "identity.erased"]
    run(fast)
    bodies = [r.json() for r in receiver.delivered()]
    assert [b["type"] for b in bodies] == ["event", "identity.erased"]
    assert bodies[0]["data"]["cluster_id"] == other["cluster_id"]
    assert bodies[1]["data"] == {"cluster_id": done["cluster_id"]}
    Merges(fast).erase(done["cluster_id"])  # again: nothing new to tell
    assert len(deliveries(driver)) == 2


# -- filters and formats ------------------------------------------------------------------
def test_filters_and_disabled_destinations_decide_what_is_recorded(fast, sources, driver):
    fast.add_destination("orders", "http://127.0.0.1:9/o", events=["Placed Order"],
                         methods=["forward"])
    fast.add_destination("off", "http://127.0.0.1:9/off")
    fast.enable_destination("off", False)
    fast.ingest(server(sources, "forward", event_name="Placed Order", event_id="F-1"))
    fast.ingest(server(sources, "track", event_name="Placed Order", event_id="F-2"))
    fast.ingest(server(sources, "forward", event_name="Viewed", event_id="F-3"))
    assert [d["event_id"] for d in deliveries(driver)] == ["F-1"]
    listed = {d["name"]: d for d in fast.list_destinations()}
    assert listed["orders"]["deliveries"] == {"pending": 1} and not listed["off"]["enabled"]
    assert "secret" not in listed["orders"]


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_meta_capi_format_has_meta_shape_and_normalised_hashes(fast, sources, receiver):
    fast.add_destination("meta", receiver.url, format="meta-capi")
    # The backend knows the customer (its customer id, email, phone and name) ...
    fast.ingest(server(sources, "set", aliases=["urn:customer_id:C-77"],
                       profile_properties={"$email": "  Ann.Lee@Mailbox.ORG ",
                                           "$phone_number": "+1 (650) 555-1234",
                                           "$first_name": "Ann-Marie",
                                           "$last_name": "O'Lee"}))
    # ... and reports the purchase the pixel also saw.
    fast.ingest(server(sources, "forward", event_name="Purchase", event_id="M-1",
                       aliases=["urn:customer_id:C-77"],
                       properties={"value": 25.5, "currency": "EUR"}))
    run(fast)
    [got] = receiver.delivered()
    [event] = got.json()["data"]
    assert event["event_name"] == "Purchase" and event["event_id"] == "M-1"
    assert isinstance(event["event_time"], int) and abs(event["event_time"] - time.time()) < 60
    assert event["action_source"] == "website"
    assert event["custom_data"] == {"value": 25.5, "currency": "EUR"}
    assert event["user_data"] == {
        "em": [sha("ann.lee@mailbox.org")], "ph": [sha("16505551234")],
        "fn": [sha("annmarie")], "ln": [sha("olee")], "external_id": [sha("C-77")]}


def test_a_later_grant_on_another_device_does_not_outvote_a_denial(fast, sources, receiver):
    from datetime import UTC, datetime

    fast.add_destination("ads", receiver.url, purpose="marketing")
    fast.ingest(browser(sources, "phone", "set", aliases=["urn:email:zoe@mailbox.org"],
                        profile_properties={"$consent": {"marketing": "denied"}}))
    fast.ingest(browser(sources, "tablet", "set", aliases=["urn:email:zoe@mailbox.org"],
                        timestamp=datetime(2099, 1, 1, tzinfo=UTC),
                        profile_properties={"$consent": {"marketing": "granted"}}))
    fast.ingest(browser(sources, "tablet", event_name="Placed Order", event_id="P-2"))
    run(fast)
    assert [d["status"] for d in fast.deliveries(destination="ads")] == ["skipped"]
    assert receiver.received == []
