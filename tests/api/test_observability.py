"""Observability (docs/api.md#health-and-operations):
/metrics agrees with the graph, request ids travel, one JSON
log line per request, and no token ever reaches a label or a log line."""

from __future__ import annotations

import json

import pytest
from prometheus_client.parser import text_string_to_metric_families

from converge_graph.service import Write


def metrics(api) -> dict[tuple[str, tuple], float]:
    resp = api.client.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(resp.text) for s in family.samples}


def counter(values: dict, name: str) -> float:
    return values.get((f"{name}_total", ()), 0.0)


def graph_count(api, query: str) -> int:
    records, _, _ = api.driver.execute_query(query)
    return records[0]["n"]


COUNTERS = ("events_ingested", "duplicates", "merges", "refused_merges", "quarantined_aliases")


def test_ingest_counters_agree_with_what_the_graph_gained(api):
    before = metrics(api)
    same_as_before = graph_count(api, "MATCH ()-[r:SAME_AS]->() RETURN count(r) AS n")
    service = api.client.app.state.service
    # 55 browsers share one kiosk alias: 49 links, then quarantine at 50 holders.
    kiosk = [Write(source=api.web, method="track", event_name="Viewed",
                   aliases=["urn:device:kiosk-9"], cookie_id=f"visitor-{n}", event_id=f"K{n}")
             for n in range(55)]
    service.ingest_batch(kiosk)
    api.webhook({"event_name": "Placed Order", "event_id": "K0",  # a duplicate
                 "aliases": ["urn:customer_id:1"]})
    # Two customers sharing one email: the second write's merge is refused
    # (limit:customer_id). (Two on one laptop are a device hand-over, no refusal.)
    api.webhook({"event_name": "Logged In", "aliases": ["urn:customer_id:1",
                                                       "urn:email:family@shop.com"]})
    api.webhook({"event_name": "Logged In", "aliases": ["urn:customer_id:2",
                                                       "urn:email:family@shop.com"]})
    after = metrics(api)
    gained = {name: counter(after, name) - counter(before, name) for name in COUNTERS}

    assert gained == {
        "events_ingested": graph_count(api, "MATCH (e:Event) RETURN count(e) AS n"),
        "duplicates": 1,
        "merges": graph_count(api, "MATCH ()-[r:SAME_AS]->() RETURN count(r) AS n")
        - same_as_before,
        "refused_merges": 1,
        "quarantined_aliases": 1,
    }
    assert gained["events_ingested"] == 55 + 2 and gained["merges"] >= 49


def test_latency_histogram_is_labelled_by_route_template_and_status(api):
    api.webhook({"event_name": "Seen", "aliases": ["urn:customer_id:7"]})
    api.client.post(f"/v1/webhook/{api.hook['token']}", json={"aliases": "not a list"})
    resp = api.client.get("/metrics")
    values = metrics(api)
    for status in ("200", "422"):
        key = ("http_request_duration_seconds_count",
               (("method", "POST"), ("route", "/v1/webhook/{token}"), ("status", status)))
        assert values.get(key, 0) >= 1, status
    assert api.hook["token"] not in resp.text


def test_unknown_paths_share_one_label(api):
    for n in range(3):
        api.client.get(f"/scanner/probe-{n}")
    resp = api.client.get("/metrics")
    assert "probe-" not in resp.text
    assert 'route="unmatched",status="404"' in resp.text


def test_a_valid_request_id_is_echoed_and_a_bad_one_replaced(api):
    resp = api.client.get("/healthz", headers={"X-Request-ID": "order-42.retry_1"})
    assert resp.headers["x-request-id"] == "order-42.retry_1"
    for bad in ("has space", "x" * 129, "semi;colon", ""):
        resp = api.client.get("/healthz", headers={"X-Request-ID": bad})
        generated = resp.headers["x-request-id"]
        assert generated != bad and len(generated) == 32 and generated.isalnum()
    first = api.client.get("/healthz").headers["x-request-id"]
    assert first != api.client.get("/healthz").headers["x-request-id"]


@pytest.mark.parametrize("status", [413, 422, 401])
def test_refusals_carry_a_request_id_too(api, status):
    body = {413: b'{"p": "' + b"x" * 70_000 + b'"}', 422: b'{"aliases": [], "aliases": []}',
            401: b'{"event_name": "x"}'}[status]
    token = "cvg_hook_nope" if status == 401 else api.hook["token"]
    resp = api.client.post(f"/v1/webhook/{token}", content=body,
                           headers={"Content-Type": "application/json", "X-Request-ID": "r-1"})
    assert resp.status_code == status
    assert resp.headers["x-request-id"] == "r-1"


def test_each_request_logs_one_json_line_without_the_token(api, capsys):
    capsys.readouterr()
    api.client.post(f"/v1/webhook/{api.hook['token']}", json={"event_name": "Seen"},
                    headers={"X-Request-ID": "log-test-1"})
    err = capsys.readouterr().err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    mine = [line for line in lines if line.get("request_id") == "log-test-1"]
    assert len(mine) == 1
    assert mine[0]["method"] == "POST" and mine[0]["path"] == "/v1/webhook/{token}"
    assert mine[0]["status"] == 200 and mine[0]["duration_ms"] > 0
    assert api.hook["token"] not in err
