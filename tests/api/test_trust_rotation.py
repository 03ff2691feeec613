"""Rotating a web source's signing secret (docs/security.md#rotating-the-signing-secret):
the new secret signs at once, the old one only within its grace window, and nothing a
page holds can rotate or stand in for the secret."""

from __future__ import annotations

import time
from datetime import timedelta

from converge_graph.core.trust import sign
from converge_graph.service import Service

URN = "urn:customer_id:5001"


def owner(api) -> dict:
    return api.webhook({"event_name": "Signed Up", "aliases": [URN, "urn:email:a@shop.com"]})


def browser_signed_with(api, secret: str, cookie: str) -> dict:
    return api.collect({"method": "set", "aliases": [URN],
                        "signatures": {URN: sign(secret, URN)}}, cookie=cookie)


def joined(api, secret: str, cookie: str) -> bool:
    """Whether a page signed with ``secret`` joins its browser to the customer."""
    person = owner(api)
    return browser_signed_with(api, secret, cookie)["cluster_id"] == person["cluster_id"]


def unsigned_conflicts(api) -> int:
    records, _, _ = api.driver.execute_query(
        "MATCH (c:Conflict {kind: 'unsigned_alias'}) RETURN count(c) AS n")
    return records[0]["n"]


def service_of(api) -> Service:
    return api.client.app.state.service


def test_a_rotated_secret_signs_at_once(api):
    rotated = service_of(api).rotate_signing_secret("shop-web")
    assert rotated["signing_secret"].startswith("cvg_sign_")
    assert rotated["signing_secret"] != api.web["signing_secret"]
    assert joined(api, rotated["signing_secret"], "new")


def test_the_old_secret_still_signs_within_the_grace_window(api):
    service_of(api).rotate_signing_secret("shop-web", timedelta(hours=24))
    assert joined(api, api.web["signing_secret"], "old")
    assert unsigned_conflicts(api) == 0


def test_the_old_secret_counts_for_nothing_once_the_grace_window_is_over(api):
    rotated = service_of(api).rotate_signing_secret("shop-web", timedelta(seconds=1))
    person = owner(api)
    time.sleep(1.2)
    late = browser_signed_with(api, api.web["signing_secret"], "late")
    assert late["cluster_id"] != person["cluster_id"]
    assert unsigned_conflicts(api) == 1
    assert browser_signed_with(api, rotated["signing_secret"], "late")["cluster_id"] == \
        person["cluster_id"]


def test_without_grace_the_old_secret_stops_at_once_as_after_a_leak(api):
    service_of(api).rotate_signing_secret("shop-web", timedelta(0))
    assert not joined(api, api.web["signing_secret"], "leaked")
    assert unsigned_conflicts(api) == 1


def test_a_second_rotation_ends_the_first_secrets_grace(api):
    service = service_of(api)
    first = service.rotate_signing_secret("shop-web")
    second = service.rotate_signing_secret("shop-web")
    assert second["ended_grace_of_older"] is not None
    person = owner(api)
    assert browser_signed_with(api, api.web["signing_secret"], "a")["cluster_id"] != \
        person["cluster_id"]
    assert browser_signed_with(api, first["signing_secret"], "b")["cluster_id"] == \
        person["cluster_id"]
    assert browser_signed_with(api, second["signing_secret"], "c")["cluster_id"] == \
        person["cluster_id"]


def test_a_source_made_before_signing_gets_its_first_secret(api):
    service = service_of(api)
    api.driver.execute_query("MATCH (d:Datasource {name: 'shop-web'}) REMOVE d.signing_secret")
    service._auth_cache.clear()
    assert service.signing_secret_status("shop-web")["has_signing_secret"] is False
    assert not joined(api, api.web["signing_secret"], "before")
    rotated = service.rotate_signing_secret("shop-web")
    assert rotated["had_signing_secret"] is False and rotated["previous_signs_until"] is None
    assert browser_signed_with(api, rotated["signing_secret"], "after")["cluster_id"] == \
        api.cluster_of(URN)["cluster_id"]


def test_no_route_touches_signing_secrets_and_the_web_token_signs_nothing(api):
    # Rotation takes the database's credentials (the CLI): no route, whatever its key.
    paths = [getattr(route, "path", "") for route in api.client.app.routes]
    assert not [p for p in paths if "secret" in p or "source" in p], paths
    # What a hostile page holds — the public web token — is no signing key.
    assert not joined(api, api.web["token"], "hostile")
    assert unsigned_conflicts(api) == 1
