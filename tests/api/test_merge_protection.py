"""Merge protection, explain, unmerge, stable ids and erasure: the stories of
docs/identity.md#merge-protection and #unmerge-and-erasure."""

from __future__ import annotations


def rows(api, query: str, **params):
    records, _, _ = api.driver.execute_query(query, params)
    return [r.data() for r in records]


def admin(api):
    return {"Authorization": f"Bearer {api.admin_key}"}


def test_two_customers_on_one_browser_stay_two_clusters_and_the_hand_over_is_reported(api):
    first = api.collect({"method": "track", "eventName": "Logged In",
                         "aliases": ["urn:customer_id:1"], "signatures": {
                             "urn:customer_id:1": api.sign("urn:customer_id:1")}},
                        cookie="family-laptop")
    second = api.collect({"method": "track", "eventName": "Logged In",
                          "aliases": ["urn:customer_id:2"], "signatures": {
                              "urn:customer_id:2": api.sign("urn:customer_id:2")}},
                         cookie="family-laptop")
    assert [(i["alias"], i["reason"].split(":")[0]) for i in second["ignored_aliases"]] == [
        ("urn:cookie:family-laptop", "device_handover")]
    one, two = api.cluster_of("urn:customer_id:1"), api.cluster_of("urn:customer_id:2")
    assert one["cluster_id"] == first["cluster_id"] != two["cluster_id"]
    assert "urn:customer_id:2" not in one["aliases"]
    # The laptop is the second customer's now; the first keeps its history on it.
    assert two["aliases"] == ["urn:cookie:family-laptop", "urn:customer_id:2"]
    assert "urn:cookie:family-laptop" in one["aliases"]
    conflicts = api.get("/v1/conflicts")["conflicts"]
    assert [(c["kind"], c["alias"], c["event_id"], c["profile_id"], c["other_profile_id"])
            for c in conflicts] == [
        ("device_handover", "urn:cookie:family-laptop", second["event_id"],
         second["profile_id"], first["profile_id"])]


def test_placeholder_and_shared_emails_never_make_a_giant_cluster(api):
    for n in range(100):
        result = api.webhook({"event_name": "Signed Up", "aliases": [
            f"urn:customer_id:{n + 1}", "urn:email:test@example.com", "urn:email:orders@shop.com"]})
        if n == 0:
            assert [i["alias"] for i in result["ignored_aliases"]] == [
                "urn:email:test@example.com"]
        else:
            assert {i["reason"] for i in result["ignored_aliases"]} >= {"limit:customer_id"}
    sizes = rows(api, "MATCH (p:Profile) RETURN p.cluster_id AS c, count(*) AS n "
                      "ORDER BY n DESC LIMIT 1")
    assert sizes[0]["n"] == 1
    assert rows(api, "MATCH (p:Profile) RETURN count(p) AS n") == [{"n": 100}]
    assert rows(api, "MATCH (a:Alias {urn: 'urn:email:test@example.com'}) RETURN count(a) AS n"
                ) == [{"n": 0}]


def test_a_cached_alias_on_sixty_profiles_is_quarantined_after_fifty(api):
    results = [api.collect({"method": "track", "eventName": "Viewed",
                            "aliases": ["urn:device:kiosk-7"]}, cookie=f"visitor-{n}")
               for n in range(60)]
    quarantined = [r for r in results if any(
        i["reason"].startswith("quarantined") for i in r["ignored_aliases"])]
    assert len(quarantined) == 10
    biggest = rows(api, "MATCH (p:Profile) RETURN p.cluster_id AS c, count(*) AS n "
                        "ORDER BY n DESC LIMIT 2")
    assert [r["n"] for r in biggest] == [50, 1]
    assert rows(api, "MATCH (a:Alias {urn: 'urn:device:kiosk-7'}) RETURN a.quarantined AS q, "
                     "COUNT { (a)<-[:HAS_ALIAS]-() } AS holders") == [{"q": True, "holders": 50}]
    kinds = [c["kind"] for c in api.get("/v1/conflicts")["conflicts"]]
    assert kinds == ["quarantine"]  # recorded once, when the alias became a hub


def _cookie_partition(api) -> set[frozenset[str]]:
    found = rows(api, """
        MATCH (p:Profile)-[:HAS_ALIAS]->(a:Alias {type: 'cookie'})
        RETURN p.cluster_id AS c, collect(a.value) AS cookies""")
    by_cluster: dict[str, set[str]] = {}
    for r in found:
        by_cluster.setdefault(r["c"], set()).update(r["cookies"])
    return {frozenset(v) for v in by_cluster.values()}


def _story(api, with_wrong_evidence: bool) -> None:
    api.collect({"method": "track", "eventName": "Subscribed",
                 "aliases": ["urn:email:alice@mail.com"]}, cookie="alice-laptop")
    api.collect({"method": "track", "eventName": "Subscribed",
                 "aliases": ["urn:email:alice@mail.com"]}, cookie="alice-phone")
    api.collect({"method": "track", "eventName": "Subscribed",
                 "aliases": ["urn:email:bob@mail.com"]}, cookie="bob-laptop")
    wrong = ["urn:loyalty:123"] if with_wrong_evidence else []
    api.collect({"method": "track", "eventName": "Joined Loyalty", "aliases": wrong},
                cookie="alice-phone")
    api.collect({"method": "track", "eventName": "Joined Loyalty", "aliases": wrong},
                cookie="bob-laptop")


def test_unmerge_gives_back_the_clusters_of_a_run_that_never_saw_the_evidence(api):
    _story(api, with_wrong_evidence=False)
    never = _cookie_partition(api)
    assert never == {frozenset({"alice-laptop", "alice-phone"}), frozenset({"bob-laptop"})}

    api.client.cookies.clear()
    from tests.conftest import wipe
    wipe(api.driver)
    api.client.app.state.service._auth_cache.clear()
    service = api.client.app.state.service
    api.web, api.hook = service.add_source("w", "web"), service.add_source("h", "webhook")
    api.read_key, api.admin_key = service.add_key("read")["key"], service.add_key("admin")["key"]
    _story(api, with_wrong_evidence=True)
    merged = api.cluster_of("urn:cookie:bob-laptop")
    assert _cookie_partition(api) == {frozenset({"alice-laptop", "alice-phone", "bob-laptop"})}

    resp = api.client.delete("/v1/links", params={"alias": "urn:loyalty:123"}, headers=admin(api))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["links_removed"] == 1
    assert _cookie_partition(api) == never

    # The old id still resolves: to its successors.
    old = api.client.get(f"/v1/clusters/{merged['cluster_id']}", headers=api.read,
                         follow_redirects=False)
    assert old.status_code == 300
    assert len(old.json()["split_into"]) == 2
    # Replaying the wrong evidence does not merge again.
    replay = api.collect({"method": "track", "eventName": "Joined Loyalty",
                          "aliases": ["urn:loyalty:123"]}, cookie="bob-laptop")
    assert replay["ignored_aliases"][0]["reason"].startswith("unmerged")
    assert _cookie_partition(api) == never


def test_merged_away_cluster_id_redirects_to_the_survivor(api):
    small = api.collect({"method": "track", "eventName": "Viewed"}, cookie="phone")
    big = api.collect({"method": "track", "eventName": "Viewed",
                       "aliases": ["urn:email:x@mail.com"]}, cookie="laptop")
    api.collect({"method": "track", "eventName": "Viewed", "aliases": ["urn:email:x@mail.com"]},
                cookie="tablet")  # two profiles now: the larger cluster keeps its id
    api.webhook({"event_name": "Order", "aliases": ["urn:email:x@mail.com", "urn:cart:9"]})
    joined = api.collect({"method": "set", "aliases": ["urn:cart:9"]}, cookie="phone")
    assert joined["cluster_id"] == big["cluster_id"] != small["cluster_id"]
    resp = api.client.get(f"/v1/clusters/{small['cluster_id']}", headers=api.read,
                          follow_redirects=False)
    assert resp.status_code == 308
    assert resp.headers["location"] == f"/v1/clusters/{big['cluster_id']}"


def test_explain_walks_the_chain_with_its_evidence(api):
    a = api.collect({"method": "track", "eventName": "Subscribed",
                     "aliases": ["urn:email:jo@mail.com"]}, cookie="a")
    b = api.collect({"method": "track", "eventName": "Subscribed",
                     "aliases": ["urn:email:jo@mail.com", "urn:phone:+14155550100"]},
                    cookie="b")
    c = api.collect({"method": "forward", "eventName": "Order", "eventID": "O-1",
                     "aliases": ["urn:phone:+1 415 555 0100"]}, cookie="c")
    cluster = c["cluster_id"]
    body = api.get(f"/v1/clusters/{cluster}/explain", **{"from": a["profile_id"],
                                                         "to": c["profile_id"]})
    steps = [(s["from"], s["to"], s["via"], s["reason"], s["datasource"]) for s in body["path"]]
    assert steps == [
        (b["profile_id"], a["profile_id"], ["urn:email:jo@mail.com"], "shared_alias", "shop-web"),
        (c["profile_id"], b["profile_id"], ["urn:phone:+14155550100"], "shared_alias",
         "shop-web"),
    ]


def test_erasure_leaves_no_trace_and_a_later_event_starts_fresh(api):
    api.collect({"method": "track", "eventName": "Subscribed",
                 "profileProperties": {"$email": "erase.me@mail.com", "$first_name": "Eve"},
                 "aliases": ["urn:email:erase.me@mail.com"]}, cookie="eve-laptop")
    order = api.webhook({"event_name": "Placed Order", "event_id": "EVE-1",
                         "properties": {"note": "erase.me@mail.com"},
                         "aliases": ["urn:email:erase.me@mail.com", "urn:customer_id:eve-9"]})
    api.collect({"method": "track", "eventName": "Viewed", "aliases": [
        "urn:email:erase.me@mail.com"]}, cookie="eve-phone")
    # Someone else logs in on Eve's laptop: the laptop is handed over to them (the conflict
    # names Eve's cookie and Eve's profile).
    api.collect({"method": "track", "eventName": "Logged In",
                 "aliases": ["urn:customer_id:other-1"], "signatures": {
                     "urn:customer_id:other-1": api.sign("urn:customer_id:other-1")}},
                cookie="eve-laptop")
    other = api.collect({"method": "track", "eventName": "Viewed"}, cookie="someone-else")
    cluster = order["cluster_id"]

    resp = api.client.delete(f"/v1/clusters/{cluster}", headers=admin(api))
    assert resp.status_code == 200, resp.text
    deleted = resp.json()["deleted"]
    # the laptop, the backend's profile (trusted evidence never lands on a browser's claim)
    # and the phone
    assert deleted["profiles"] == 3 and deleted["events"] == 3
    # The laptop's cookie is the other customer's now: it stays, held by them alone.
    assert rows(api, "MATCH (p:Profile)-[:HAS_ALIAS]->(a:Alias {urn: 'urn:cookie:eve-laptop'}) "
                     "MATCH (p)-[:HAS_ALIAS]->(b:Alias) WHERE b <> a RETURN b.urn AS urn") == [
        {"urn": "urn:customer_id:other-1"}]
    for value in ("erase.me@mail.com", "eve-9", "eve-phone", "Eve", "EVE-1"):
        found = rows(api, """
            CALL () { MATCH (n) RETURN properties(n) AS props
                      UNION ALL MATCH ()-[r]->() RETURN properties(r) AS props }
            WITH props WHERE any(k IN keys(props) WHERE
                CASE WHEN valueType(props[k]) STARTS WITH 'LIST'
                     THEN any(x IN props[k] WHERE toString(x) CONTAINS $v)
                     ELSE toString(props[k]) CONTAINS $v END)
            RETURN count(*) AS n""", v=value)
        assert found == [{"n": 0}], value
    again = api.client.delete(f"/v1/clusters/{cluster}", headers=admin(api))
    assert again.json()["deleted"] == {"profiles": 0, "events": 0, "aliases": 0, "conflicts": 0}
    assert api.cluster_of("urn:cookie:someone-else")["cluster_id"] == other["cluster_id"]
    fresh = api.webhook({"event_name": "Came Back", "aliases": ["urn:email:erase.me@mail.com"]})
    assert fresh["cluster_id"] != cluster
    assert len(api.cluster_of("urn:email:erase.me@mail.com")["profiles"]) == 1


def test_manual_link_joins_two_clusters_and_needs_an_admin_key(api):
    a = api.collect({"method": "track", "eventName": "Viewed"}, cookie="a")
    b = api.collect({"method": "track", "eventName": "Viewed"}, cookie="b")
    body = {"from": a["profile_id"], "to": b["profile_id"], "reason": "support ticket 12"}
    assert api.client.post("/v1/links", json=body, headers=api.read).status_code == 403
    resp = api.client.post("/v1/links", json=body, headers=admin(api))
    assert resp.status_code == 200, resp.text
    cluster = api.cluster_of("urn:cookie:a")
    assert {p["profile_id"] for p in cluster["profiles"]} == {a["profile_id"], b["profile_id"]}
    assert [(link["reason"], link["via"]) for link in cluster["links"]] == [("manual", [])]
