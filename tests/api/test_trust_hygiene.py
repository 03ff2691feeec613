"""The public web token as an attacker's tool (docs/security.md#input-hygiene-and-limits).

The web token is in every page's source: whatever it can do, any stranger can. Each test
is the attack, sent through the real API, asserting the attacker learns or breaks nothing
and the victim's data is as it was — and that the legitimate call still works.
"""

from __future__ import annotations

from typing import Any

from tests.conftest import Api


def post_collect(api: Api, body: dict[str, Any]) -> Any:
    """What a hostile page sends: a raw POST with the public token, no helper."""
    api.client.cookies.clear()
    return api.client.post(f"/v1/collect/{api.web['token']}", json=body)


# -- row 7: the collector's reply is no membership oracle -----------------------------
def test_collect_reply_says_nothing_about_whether_an_alias_or_event_id_is_someone_elses(
        api: Api):
    api.webhook({"event_name": "Placed Order", "event_id": "VICTIM-ORDER-1",
                 "aliases": ["urn:email:victim@mail.com", "urn:customer_id:7"]})
    probes = {
        "known": {"method": "forward", "eventName": "Placed Order", "eventID": "VICTIM-ORDER-1",
                  "aliases": ["urn:email:victim@mail.com"], "cookieId": "probe-1"},
        "unknown": {"method": "forward", "eventName": "Placed Order", "eventID": "NOBODY-9",
                    "aliases": ["urn:email:nobody@mail.com"], "cookieId": "probe-1"},
        "blocked": {"method": "set", "aliases": ["urn:email:test@test.com"],
                    "cookieId": "probe-1"},
    }
    replies = {name: post_collect(api, body) for name, body in probes.items()}
    assert {name: r.status_code for name, r in replies.items()} == dict.fromkeys(probes, 200)
    assert {name: r.json() for name, r in replies.items()} == dict.fromkeys(
        probes, {"cookie_id": "probe-1"})


def test_webhook_replies_keep_the_full_write_result(api: Api):
    result = api.webhook({"event_name": "Seen", "event_id": "W-1",
                          "aliases": ["urn:email:jo@mail.com", "urn:email:test@test.com"]})
    assert set(result) == {"event_id", "deduplicated", "profile_id", "cluster_id",
                           "ignored_aliases"}
    assert result["ignored_aliases"][0]["alias"] == "urn:email:test@test.com"


def test_collect_still_issues_and_keeps_the_browser_id(api: Api):
    first = post_collect(api, {"method": "track", "eventName": "Viewed"})
    issued = first.json()["cookie_id"]
    assert first.cookies.get("__cvg_uid") == issued
    assert api.cluster_of(f"urn:cookie:{issued}")["event_count"] == 1
