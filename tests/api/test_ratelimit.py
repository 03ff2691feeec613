"""Rate limiting per token (docs/api.md#limits): a token bucket per datasource token or API key;
429 with Retry-After in the error shape; other credentials unaffected; off by default."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from converge_graph.api import create_app
from converge_graph.api.ratelimit import TokenBuckets


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_the_rate():
    clock = Clock()
    buckets = TokenBuckets(rate=2.0, burst=3, clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0, 0, 0]
    assert buckets.take("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert buckets.take("a") == 0
    assert buckets.take("b") == 0  # another credential has its own bucket
    clock.now += 60
    assert [buckets.take("a") for _ in range(4)][:3] == [0, 0, 0]  # never more than the burst


def test_burst_zero_means_one_seconds_worth():
    buckets = TokenBuckets(rate=5.0, burst=0, clock=Clock())
    assert [buckets.take("k") == 0 for _ in range(6)] == [True] * 5 + [False]


def test_buckets_are_capped_least_recently_used_first():
    buckets = TokenBuckets(rate=1.0, burst=1, clock=Clock(), max_buckets=2)
    buckets.take("a")
    buckets.take("b")
    buckets.take("c")  # evicts a
    assert buckets.take("a") == 0
    assert buckets.take("c") > 0


@pytest.fixture
def limited(api, neo4j_settings):
    """An app allowing bursts of 3 then one request per 50 s (slow enough that no test
    refills a bucket by accident), on the suite's graph and sources."""
    settings = neo4j_settings.model_copy(
        update={"rate_limit_per_second": 0.02, "rate_limit_burst": 3})
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        yield client


def event(n: int) -> dict:
    return {"event_name": "Viewed", "event_id": f"RL-{n}", "aliases": ["urn:customer_id:9"]}


def test_a_token_over_its_rate_gets_429_with_retry_after_and_nothing_is_written(api, limited):
    url = f"/v1/webhook/{api.hook['token']}"
    assert [limited.post(url, json=event(n)).status_code for n in range(3)] == [200] * 3
    before = api.counts()
    resp = limited.post(url, json=event(3))
    assert resp.status_code == 429
    assert int(resp.headers["retry-after"]) >= 1
    error = resp.json()["error"]
    assert error["code"] == "rate_limited" and error["field"] == "token"
    assert "per second" in error["message"]
    assert api.counts() == before
    # Other credentials are not slowed down by this one.
    assert limited.post(f"/v1/collect/{api.web['token']}",
                        json={"method": "track", "eventName": "Viewed", "cookieId": "b1"}
                        ).status_code == 200
    assert limited.get("/healthz").status_code == 200


def test_header_token_and_batch_route_share_the_tokens_bucket(api, limited):
    token = api.hook["token"]
    statuses = [
        limited.post("/v1/webhook", json=event(0), headers={"X-Webhook-Token": token}),
        limited.post(f"/v1/webhook/{token}/batch", json={"events": [event(1)]}),
        limited.post(f"/v1/webhook/{token}", json=event(2)),
        limited.post("/v1/webhook", json=event(3), headers={"X-Webhook-Token": token}),
    ]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429]
    assert statuses[-1].json()["error"]["field"] == "X-Webhook-Token"


def test_read_keys_are_limited_per_key(api, limited):
    read = {"Authorization": f"Bearer {api.read_key}"}
    other = {"Authorization": f"Bearer {api.admin_key}"}
    url = "/v1/clusters/lookup?alias=urn:customer_id:nobody"
    assert [limited.get(url, headers=read).status_code for _ in range(3)] == [404] * 3
    refused = limited.get(url, headers=read)
    assert refused.status_code == 429
    assert refused.json()["error"]["field"] == "Authorization"
    assert limited.get(url, headers=other).status_code == 404


def test_rate_limiting_is_off_by_default(api):
    url = "/v1/clusters/lookup?alias=urn:customer_id:nobody"
    assert {api.client.get(url, headers=api.read).status_code for _ in range(25)} == {404}
