"""Auth and isolation (docs/api.md#credentials): each credential does its one job and no other.

test_bad_input covers the read routes refusing datasource tokens and unknown keys, and
each ingestion route refusing the other kind of datasource token. Here: the merge and
admin routes, the batch route, read keys trying to write or erase, and the graph never
holding a raw token or key. Every denial writes nothing.
"""

from __future__ import annotations

import json

import pytest


def bearer(secret: str | None) -> dict[str, str]:
    return {} if secret is None else {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def person(api) -> dict:
    """Two profiles joined by an email: something to read, unmerge and erase."""
    first = api.webhook({"event_name": "Signed Up", "event_id": "AUTH-1",
                         "aliases": ["urn:customer_id:1", "urn:email:jo@shop.com"]})
    api.collect({"method": "track", "eventName": "Viewed",
                 "aliases": ["urn:email:jo@shop.com"]}, cookie="jo-phone")
    other = api.webhook({"event_name": "Seen", "aliases": ["urn:customer_id:2"]})
    return {**first, "other_profile_id": other["profile_id"]}


def credential(api, who: str) -> str | None:
    return {"nothing": None, "unknown key": "cvg_admin_unknown000000", "read key": api.read_key,
            "webhook token": api.hook["token"], "web token": api.web["token"],
            "admin key": api.admin_key}[who]


ADMIN_ROUTES = {
    "erase a cluster": ("DELETE", "/v1/clusters/{cluster}", None),
    "unmerge by alias": ("DELETE", "/v1/links?alias=urn:email:jo@shop.com", None),
    "link two profiles": ("POST", "/v1/links", "link"),
}
DENIED = {"nothing": 401, "unknown key": 401, "webhook token": 401, "web token": 401,
          "read key": 403}


def admin_request(api, person, route: str, secret: str | None):
    method, path, body = ADMIN_ROUTES[route]
    content = None
    if body == "link":
        content = json.dumps({"from": person["profile_id"], "to": person["other_profile_id"],
                              "reason": "support ticket 7"}).encode()
    return api.client.request(method, path.format(cluster=person["cluster_id"]),
                              content=content,
                              headers={**bearer(secret), "Content-Type": "application/json"})


@pytest.mark.parametrize("who", DENIED)
@pytest.mark.parametrize("route", ADMIN_ROUTES)
def test_admin_routes_refuse_everything_but_an_admin_key(api, person, route, who):
    before = api.counts()
    resp = admin_request(api, person, route, credential(api, who))
    assert resp.status_code == DENIED[who], resp.text
    error = resp.json()["error"]
    assert error["field"] == "Authorization"
    if who == "read key":
        assert "admin" in error["message"]
    assert api.counts() == before


@pytest.mark.parametrize("route", ADMIN_ROUTES)
def test_admin_routes_work_with_an_admin_key(api, person, route):
    resp = admin_request(api, person, route, api.admin_key)
    assert resp.status_code == 200, resp.text


def test_a_read_key_cannot_erase_and_the_person_is_still_there(api, person):
    resp = api.client.delete(f"/v1/clusters/{person['cluster_id']}", headers=api.read)
    assert resp.status_code == 403
    assert api.get(f"/v1/clusters/{person['cluster_id']}")["event_count"] == 2


@pytest.mark.parametrize("route", ["webhook", "batch", "collect"])
def test_a_read_or_admin_key_cannot_write(api, route):
    body = {"event_name": "Forged", "aliases": ["urn:customer_id:666"]}
    payload = {"webhook": body, "batch": {"events": [body]},
               "collect": {"method": "track", "eventName": "Forged", "cookieId": "b1",
                           "aliases": ["urn:customer_id:666"]}}[route]
    for secret in (api.read_key, api.admin_key):
        before = api.counts()
        path = {"webhook": f"/v1/webhook/{secret}", "batch": f"/v1/webhook/{secret}/batch",
                "collect": f"/v1/collect/{secret}"}[route]
        resp = api.client.post(path, json=payload, headers=bearer(secret))
        assert resp.status_code == 401, resp.text
        assert resp.json()["error"]["field"] == "token"
        assert api.counts() == before


def test_a_web_token_can_only_collect(api):
    """The browser token is public (it is in the page's HTML): it writes browser events only."""
    token = api.web["token"]
    event = {"event_name": "Forged Order", "aliases": ["urn:customer_id:1"]}
    before = api.counts()
    batch = api.client.post(f"/v1/webhook/{token}/batch", json={"events": [event]})
    header = api.client.post("/v1/webhook", json=event, headers={"X-Webhook-Token": token})
    assert (batch.status_code, header.status_code) == (403, 403)
    assert batch.json()["error"]["field"] == "token"
    assert header.json()["error"]["field"] == "X-Webhook-Token"
    assert "webhook" in batch.json()["error"]["message"]
    assert api.counts() == before
    assert api.collect({"method": "track", "eventName": "Viewed"}, cookie="b1")["profile_id"]


@pytest.mark.parametrize("who", ["webhook token", "web token", "nothing"])
@pytest.mark.parametrize("path", ["/v1/conflicts", "/v1/clusters/{cluster}/explain"
                                  "?from={profile}&to={profile}"])
def test_merge_review_routes_need_a_read_key(api, person, who, path):
    url = path.format(cluster=person["cluster_id"], profile=person["profile_id"])
    resp = api.client.get(url, headers=bearer(credential(api, who)))
    assert resp.status_code == 401, resp.text
    assert person["profile_id"] not in resp.text.replace(url, "")
    assert api.client.get(url, headers=api.read).status_code == 200  # the control


def test_no_raw_token_or_key_is_stored_anywhere_in_the_graph(api, person):
    secrets = [api.web["token"], api.hook["token"], api.read_key, api.admin_key]
    # The random part alone must not be there either (a prefix-stripped copy is still a key).
    # Secrets are "cvg_<kind>_<32 random url-safe chars>"; the random part may contain "_".
    secrets += [s.split("_", 2)[2] for s in secrets]
    assert all(len(s) >= 32 for s in secrets)
    api.client.get("/v1/clusters/lookup?alias=urn:email:jo@shop.com", headers=api.read)
    records, _, _ = api.driver.execute_query(
        "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props "
        "UNION ALL MATCH ()-[r]->() RETURN [type(r)] AS labels, properties(r) AS props")
    assert records
    stored = json.dumps([r.data() for r in records], default=str)
    leaked = [s for s in secrets if s in stored]
    assert leaked == []
    hashes, _, _ = api.driver.execute_query(
        "MATCH (d:Datasource) RETURN d.token_hash AS h UNION ALL "
        "MATCH (k:ApiKey) RETURN k.key_hash AS h")
    assert len(hashes) == 4 and all(len(r["h"]) == 64 for r in hashes)
