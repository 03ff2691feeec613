"""Segment's Tracking API wire format and identity mapping (docs/segment.md), over HTTP
against a real Neo4j. The real client libraries are driven in tests/e2e/test_segment_clients.py."""

from __future__ import annotations

import base64
import gzip
import json
import uuid

from fastapi.testclient import TestClient

from converge_graph.api import create_app
from tests.conftest import Api


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:".encode()).decode()}


def post(api: Api, path: str, body: dict, key: str | None = None, **headers: str):
    data = json.dumps(body).encode()
    hdrs = {"Content-Type": "application/json", **headers}
    if key is not None:
        hdrs.update(basic(key))
    if hdrs.get("Content-Encoding") == "gzip":
        data = gzip.compress(data)
    return api.client.post(path, content=data, headers=hdrs)


def mid() -> str:
    return str(uuid.uuid4())


def test_identify_with_user_and_anonymous_id_joins_both_and_keeps_traits(api: Api):
    resp = post(api, "/v1/identify", {
        "userId": "u-1", "anonymousId": "anon-1", "messageId": mid(),
        "traits": {"email": "Jane.Doe@Shopmail.com", "plan": "pro"},
        "context": {"traits": {"phone": "+1 415 555 2671", "plan": "free"}, "ip": "1.2.3.4"}},
        api.hook["token"])
    assert resp.status_code == 200, resp.text
    assert resp.json() == {"success": True}
    cluster = api.cluster_of("urn:user_id:u-1")
    assert set(cluster["aliases"]) >= {"urn:user_id:u-1", "urn:anonymous_id:anon-1",
                                       "urn:email:jane.doe@shopmail.com", "urn:phone:+14155552671"}
    props = cluster["merged_properties"]
    assert props["plan"] == "pro"  # traits win over context.traits
    assert props["email"] == "Jane.Doe@Shopmail.com"  # keys and values verbatim


def test_track_is_an_event_named_by_event_with_its_message_id_and_context(api: Api):
    message_id = mid()
    resp = post(api, "/v1/track", {
        "anonymousId": "anon-2", "event": "Order Completed", "messageId": message_id,
        "properties": {"total": 30.5}, "context": {"page": {"path": "/checkout"}},
        "integrations": {"All": True}, "unknownField": 1}, api.hook["token"])
    assert resp.status_code == 200, resp.text
    event = api.get(f"/v1/events/{message_id}")
    assert event["event_name"] == "Order Completed"
    assert event["properties"]["total"] == 30.5
    assert event["properties"]["$segment"]["context"] == {"page": {"path": "/checkout"}}
    assert event["properties"]["$segment"]["integrations"] == {"All": True}


def test_page_and_screen_are_viewed_events_keeping_name_and_category(api: Api):
    ids = [mid(), mid(), mid()]
    batch = [
        {"type": "page", "anonymousId": "a3", "name": "Pricing", "category": "Docs",
         "messageId": ids[0]},
        {"type": "screen", "anonymousId": "a3", "name": "Home", "messageId": ids[1]},
        {"type": "page", "anonymousId": "a3", "messageId": ids[2]},
    ]
    assert post(api, "/v1/batch", {"batch": batch}, api.hook["token"]).status_code == 200
    names = [api.get(f"/v1/events/{i}")["event_name"] for i in ids]
    assert names == ["Viewed Pricing Page", "Viewed Home Screen", "Page Viewed"]
    kept = api.get(f"/v1/events/{ids[0]}")["properties"]["$segment"]
    assert (kept["name"], kept["category"]) == ("Pricing", "Docs")


def test_the_same_message_id_twice_and_again_in_a_batch_stores_one_event(api: Api):
    message = {"anonymousId": "anon-4", "event": "Signed Up", "messageId": mid()}
    for _ in range(2):
        assert post(api, "/v1/track", message, api.hook["token"]).status_code == 200
    batch = [{**message, "type": "track"}, {**message, "type": "track"}]
    assert post(api, "/v1/batch", {"batch": batch}, api.hook["token"]).status_code == 200
    cluster = api.cluster_of("urn:anonymous_id:anon-4")
    assert cluster["event_count"] == 1


def test_alias_links_the_anonymous_profile_to_the_user(api: Api):
    post(api, "/v1/track", {"anonymousId": "anon-5", "event": "Viewed"}, api.hook["token"])
    post(api, "/v1/identify", {"userId": "u-5", "traits": {"email": "five@shop.io"}},
         api.hook["token"])
    resp = post(api, "/v1/alias", {"previousId": "anon-5", "userId": "u-5"}, api.hook["token"])
    assert resp.status_code == 200, resp.text
    cluster = api.cluster_of("urn:anonymous_id:anon-5")
    assert {"urn:user_id:u-5", "urn:email:five@shop.io"} <= set(cluster["aliases"])


def test_alias_renaming_a_user_id_is_refused_and_reported_as_a_conflict(api: Api):
    post(api, "/v1/identify", {"userId": "old-id", "traits": {"email": "old@shop.io"}},
         api.hook["token"])
    post(api, "/v1/identify", {"userId": "new-id", "traits": {"email": "new@shop.io"}},
         api.hook["token"])
    resp = post(api, "/v1/alias", {"previousId": "old-id", "userId": "new-id"},
                api.hook["token"])
    assert resp.status_code == 200, resp.text
    old = api.cluster_of("urn:user_id:old-id")
    assert "urn:user_id:new-id" not in old["aliases"]
    assert api.cluster_of("urn:user_id:new-id")["cluster_id"] != old["cluster_id"]
    conflicts = api.get("/v1/conflicts")["conflicts"]
    assert any(c["alias"] in ("urn:user_id:new-id", "urn:user_id:old-id")
               and c["kind"] == "refused_merge" and c["reason"] == "limit:user_id"
               for c in conflicts), conflicts


def test_group_is_stored_with_the_event_and_never_becomes_a_person_alias(api: Api):
    message_id = mid()
    post(api, "/v1/group", {"userId": "u-6", "groupId": "acme", "traits": {"seats": 10},
                            "messageId": message_id}, api.hook["token"])
    event = api.get(f"/v1/events/{message_id}")
    assert event["properties"]["groupId"] == "acme"
    assert event["properties"]["traits"] == {"seats": 10}
    assert api.cluster_of("urn:user_id:u-6")["aliases"] == ["urn:user_id:u-6"]


def test_batch_context_and_sent_at_apply_to_every_message_with_clock_skew_corrected(api: Api):
    message_id = mid()
    # The client's clock is one hour fast: sent "13:00", stamped "12:59"; arrives ~now.
    batch = {"batch": [{"type": "track", "anonymousId": "a7", "event": "E",
                        "messageId": message_id, "timestamp": "2030-01-01T12:59:00Z",
                        "context": {"app": "mine"}}],
             "sentAt": "2030-01-01T13:00:00Z", "context": {"library": {"name": "x"}}}
    assert post(api, "/v1/batch", batch, api.hook["token"]).status_code == 200
    event = api.get(f"/v1/events/{message_id}")
    assert event["properties"]["$segment"]["context"] == {"library": {"name": "x"},
                                                          "app": "mine"}
    from datetime import UTC, datetime
    stamped = datetime.fromisoformat(event["timestamp"])
    assert abs((datetime.now(UTC) - stamped).total_seconds() - 60) < 30


def test_gzip_bodies_and_the_write_key_in_the_body_are_accepted(api: Api):
    message_id = mid()
    body = {"batch": [{"type": "track", "userId": "u-8", "event": "Zipped",
                       "messageId": message_id}], "writeKey": api.hook["token"]}
    resp = post(api, "/v1/import", body, **{"Content-Encoding": "gzip"})
    assert resp.status_code == 200, resp.text
    assert api.get(f"/v1/events/{message_id}")["event_name"] == "Zipped"


def test_a_gzip_bomb_is_refused_without_inflating_it(api: Api):
    bomb = gzip.compress(b'{"batch": [' + b" " * 50_000_000 + b"]}")
    assert len(bomb) < 100_000
    resp = api.client.post("/v1/batch", content=bomb, headers={
        **basic(api.hook["token"]), "Content-Encoding": "gzip"})
    assert resp.status_code == 413
    assert resp.json()["code"] == "too_large"


def test_unknown_and_wrong_kind_write_keys_are_401_with_a_top_level_code(api: Api):
    message = {"anonymousId": "a9", "event": "E"}
    for key in ("nope", api.web["token"]):
        resp = post(api, "/v1/track", message, key)
        assert resp.status_code == 401
        assert resp.json()["code"] == "unauthorized" and resp.json()["message"]
    assert post(api, "/v1/track", message).status_code == 401  # no key at all
    assert api.counts().get("Event", 0) == 0


def test_a_40kb_message_and_a_540kb_batch_are_refused(api: Api):
    big = {"anonymousId": "a10", "event": "Big", "properties": {"blob": "x" * 40_000}}
    resp = post(api, "/v1/track", big, api.hook["token"])
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"
    batch = [{"type": "track", "anonymousId": f"a{i}", "event": "E",
              "properties": {"blob": "x" * 20_000}} for i in range(27)]
    resp = post(api, "/v1/batch", {"batch": batch}, api.hook["token"])
    assert resp.status_code == 413 and resp.json()["code"] == "too_large"
    assert api.counts().get("Event", 0) == 0


def test_a_message_without_user_or_anonymous_id_is_refused(api: Api):
    resp = post(api, "/v1/track", {"event": "Nobody"}, api.hook["token"])
    assert resp.status_code == 400
    assert resp.json()["field"] == "userId"
    assert api.counts().get("Event", 0) == 0


def test_one_bad_message_in_a_batch_is_dropped_and_reported_the_others_stored(api: Api):
    good = [mid(), mid()]
    batch = [{"type": "track", "anonymousId": "a11", "event": "One", "messageId": good[0]},
             {"type": "track", "event": "No one"},
             {"type": "nonsense", "anonymousId": "a11"},
             {"type": "track", "anonymousId": "a11", "event": "Two", "messageId": good[1]}]
    resp = post(api, "/v1/batch", {"batch": batch}, api.hook["token"])
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["success"] is True
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (1, "batch[1].userId"), (2, "batch[2].type")]
    for event_id in good:
        api.get(f"/v1/events/{event_id}")
    metrics = api.client.get("/metrics").text
    assert 'segment_rejected_messages_total{code="invalid"}' in metrics


def test_more_messages_than_one_resolver_batch_are_all_stored(api: Api):
    batch = [{"type": "track", "anonymousId": "a12", "event": "E", "messageId": mid()}
             for _ in range(api.client.app.state.service.settings.max_batch_events + 20)]
    assert post(api, "/v1/batch", {"batch": batch}, api.hook["token"]).status_code == 200
    assert api.cluster_of("urn:anonymous_id:a12")["event_count"] == len(batch)


def test_a_write_key_over_its_rate_gets_429_with_retry_after(api: Api, neo4j_settings):
    settings = neo4j_settings.model_copy(
        update={"rate_limit_per_second": 0.02, "rate_limit_burst": 2})
    with TestClient(create_app(settings), base_url="http://testserver") as limited:
        message = {"type": "track", "anonymousId": "a13", "event": "E"}
        by_header = limited.post("/v1/track", json=message, headers=basic(api.hook["token"]))
        in_body = limited.post("/v1/batch", json={"batch": [message],
                                                  "writeKey": api.hook["token"]})
        refused = limited.post("/v1/track", json=message, headers=basic(api.hook["token"]))
    assert [by_header.status_code, in_body.status_code, refused.status_code] == [200, 200, 429]
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["code"] == "rate_limited"


def test_neo4j_away_is_503_with_retry_after_in_segments_shape(neo4j_settings):
    settings = neo4j_settings.model_copy(update={
        "neo4j_uri": "bolt://127.0.0.1:9", "neo4j_retry_seconds": 0.5})
    with TestClient(create_app(settings), base_url="http://testserver") as away:
        resp = away.post("/v1/batch", json={"batch": [], "writeKey": "any-key"})
    assert resp.status_code == 503
    assert int(resp.headers["retry-after"]) >= 1
    assert resp.json()["code"] == "database_unavailable" and resp.json()["message"]


def test_a_batch_of_more_than_2500_messages_is_refused_whole(api: Api):
    batch = [{"type": "track", "anonymousId": "a", "event": "E"}] * 2501
    resp = post(api, "/v1/batch", {"batch": batch}, api.hook["token"])
    assert resp.status_code == 413 and resp.json()["field"] == "batch"
    assert api.counts().get("Event", 0) == 0
