"""Destinations over HTTP (admin key) and the delivery workers that `serve` runs: the
browser's `forward` and the backend's copy of one order reach a receiver once, signed."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from converge_graph.api import create_app
from tests.receiver import Receiver


@pytest.fixture(scope="module")
def app_client(neo4j_settings) -> Iterator[TestClient]:
    """This module's own app, with the delivery workers `serve` runs by default."""
    with TestClient(create_app(neo4j_settings), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


def admin(api) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.admin_key}"}


def create(api, expect: int = 201, **body) -> dict:
    resp = api.client.post("/v1/destinations", json=body, headers=admin(api))
    assert resp.status_code == expect, resp.text
    return resp.json()


def test_destinations_need_an_admin_key(api):
    body = {"name": "ads", "url": "https://hooks.shop.test/x"}
    assert api.client.post("/v1/destinations", json=body).status_code == 401
    assert api.client.post("/v1/destinations", json=body, headers=api.read).status_code == 403
    web_token = {"Authorization": f"Bearer {api.web['token']}"}  # public: in every page
    assert api.client.post("/v1/destinations", json=body,
                           headers=web_token).status_code == 401
    assert api.client.get("/v1/deliveries", headers=api.read).status_code == 403
    assert api.counts().get("Destination", 0) == 0


def test_a_destination_is_created_once_and_its_secret_shown_once(api):
    made = create(api, name="ads", url="https://hooks.shop.test/x", events=["Placed Order"],
                  methods=["forward"], format="meta-capi", purpose="marketing")
    assert made["secret"].startswith("whsec_") and made["enabled"] is True
    listed = api.client.get("/v1/destinations", headers=admin(api)).json()["destinations"]
    assert [d["name"] for d in listed] == ["ads"] and "secret" not in listed[0]
    again = create(api, 422, name="ads", url="https://hooks.shop.test/y")
    assert again["error"]["field"] == "name"


@pytest.mark.parametrize(("body", "field"), [
    ({"name": "a", "url": "ftp://x"}, "url"),
    ({"name": "a", "url": "hooks.shop.test"}, "url"),
    ({"name": "a", "url": "https://h.test", "format": "csv"}, "format"),
    ({"name": "a", "url": "https://h.test", "methods": ["set"]}, "methods"),
    ({"name": "a", "url": "https://h.test", "format": "meta-capi", "identity_events": True},
     "identity_events"),
])
def test_a_bad_destination_is_refused_naming_the_field(api, body, field):
    error = create(api, 422, **body)["error"]
    assert error["field"].split("[")[0] == field, error
    assert api.counts().get("Destination", 0) == 0


def test_disable_enable_and_remove(api):
    create(api, name="ads", url="https://hooks.shop.test/x")
    h = admin(api)
    assert api.client.post("/v1/destinations/ads/disable", headers=h).json()["enabled"] is False
    api.webhook({"event_name": "E", "aliases": ["urn:customer_id:1"]})
    assert api.counts().get("Delivery", 0) == 0  # disabled: nothing recorded
    api.client.post("/v1/destinations/ads/enable", headers=h)
    api.webhook({"event_name": "E", "aliases": ["urn:customer_id:1"]})
    assert api.counts().get("Delivery", 0) == 1
    assert api.client.delete("/v1/destinations/ads", headers=h).json()["deliveries"] == 1
    assert api.client.delete("/v1/destinations/ads", headers=h).status_code == 404


def test_serve_forwards_one_order_reported_by_browser_and_backend_once_signed(
    api, receiver
):
    secret = create(api, name="ads", url=receiver.url, events=["Placed Order"])["secret"]
    api.collect({"method": "set", "aliases": ["urn:email:ann@mailbox.org"]}, cookie="phone")
    api.collect({"method": "forward", "eventName": "Placed Order", "eventID": "X01",
                 "properties": {"total": 25}}, cookie="laptop")
    api.webhook({"method": "forward", "event_name": "Placed Order", "event_id": "X01",
                 "properties": {"total": 25}, "aliases": ["urn:email:ann@mailbox.org"]})
    [got] = receiver.wait_for(1)
    time.sleep(0.5)  # a second copy would have arrived by now
    assert len(receiver.received) == 1
    body = Webhook(secret).verify(got.body, got.headers)
    assert body["data"]["event_id"] == "X01" and body["data"]["method"] == "forward"
    listed = api.client.get("/v1/deliveries", params={"status": "delivered"},
                            headers=admin(api)).json()["deliveries"]
    assert [d["delivery_id"] for d in listed] == [got.id]
    metrics = api.client.get("/metrics").text
    assert 'deliveries{status="delivered"} 1.0' in metrics
    assert 'delivery_attempts_total{status="delivered"}' in metrics
    assert "delivery_latency_seconds_bucket" in metrics


def test_dead_deliveries_are_listed_and_retried_over_the_api(api, receiver):
    create(api, name="crm", url=receiver.url)
    receiver.default = 410
    api.webhook({"event_name": "E", "event_id": "Z1", "aliases": ["urn:customer_id:9"]})
    receiver.wait_for(1, delivered=False)
    h = admin(api)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        dead = api.client.get("/v1/deliveries", params={"status": "dead"},
                              headers=h).json()["deliveries"]
        if dead:
            break
        time.sleep(0.05)
    assert dead[0]["response_status"] == 410
    receiver.default = 200
    assert api.client.post("/v1/deliveries/retry", json={"destination": "crm"},
                           headers=h).json() == {"retried": 1}
    [got] = receiver.wait_for(1)
    assert got.id == dead[0]["delivery_id"]
