"""Delivery rules without Neo4j: signatures an off-the-shelf Standard Webhooks library
accepts, the retry schedule, what each answer means, Meta's normalisation, consent."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from converge_graph.core import payloads
from converge_graph.core.webhooks import (
    RetryPolicy,
    classify,
    new_signing_secret,
    next_attempt,
    parse_retry_after,
    signed_headers,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def test_signed_headers_verify_with_the_standardwebhooks_library():
    secret = new_signing_secret()
    body = '{"type":"event","data":{"n":"é"}}'.encode()
    headers = signed_headers(secret, "msg_1", datetime.now(UTC), body)
    assert Webhook(secret).verify(body, headers) == {"type": "event", "data": {"n": "é"}}


def test_a_changed_body_or_id_does_not_verify():
    secret = new_signing_secret()
    headers = signed_headers(secret, "msg_1", datetime.now(UTC), b'{"a":1}')
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":2}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b'{"a":1}', {**headers, "webhook-id": "msg_2"})


def test_secrets_are_fresh_and_in_the_whsec_form():
    a, b = new_signing_secret(), new_signing_secret()
    assert a != b and a.startswith("whsec_") and len(a) > 40


def test_the_backoff_starts_near_a_second_doubles_and_is_capped():
    policy = RetryPolicy(first=1.0, ceiling=600.0)
    rng = random.Random(7)
    delays = [policy.delay(n, rng) for n in range(1, 15)]
    assert 0.75 <= delays[0] <= 1.25
    assert 1.5 <= delays[1] <= 2.5 and 3.0 <= delays[2] <= 5.0
    assert max(delays) <= 600.0 and delays[-1] >= 450.0


def test_retries_end_with_the_window():
    policy = RetryPolicy(first=1.0, ceiling=600.0, window=24 * 3600)
    assert next_attempt(policy, 3, NOW, NOW + timedelta(hours=1)) is not None
    assert next_attempt(policy, 50, NOW, NOW + timedelta(hours=23, minutes=59)) is None


def test_retry_after_overrides_the_backoff():
    policy = RetryPolicy(first=0.01)
    assert next_attempt(policy, 1, NOW, NOW, retry_after=30) == NOW + timedelta(seconds=30)
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Sun, 01 Mar 2026 12:01:00 GMT", NOW) == 60
    assert parse_retry_after("soon", NOW) is None


@pytest.mark.parametrize(("code", "status"), [
    (200, "delivered"), (204, "delivered"), (None, "failed"), (408, "failed"),
    (429, "failed"), (500, "failed"), (503, "failed"), (301, "dead"), (400, "dead"),
    (401, "dead"), (404, "dead"), (410, "dead"), (422, "dead"),
])
def test_what_each_answer_means(code, status):
    assert classify(code, "refused").status == status


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_meta_normalisation_follows_metas_rules():
    assert payloads.norm_email("  John.Smith@Apple.COM ") == "john.smith@apple.com"
    assert payloads.norm_phone("+44 844 412 4653", "US") == "448444124653"
    assert payloads.norm_phone("(650) 555-1234", "US") == "16505551234"
    assert payloads.norm_phone("not a phone", "US") is None
    assert payloads.norm_name(" Mary-Jane ") == "maryjane"
    assert payloads.norm_name("Zoë") == "zoë"


def test_meta_user_data_merges_properties_and_aliases_hashed_once():
    data = {"profile_properties": {"$email": "Ann@Shop.io", "$first_name": "Ann"},
            "aliases": ["urn:email:ann@shop.io", "urn:phone:+16505551234",
                        "urn:cookie:abc"], "cluster_id": "clu_1"}
    assert payloads.meta_user_data(data, "US") == {
        "em": [sha("ann@shop.io")], "ph": [sha("16505551234")], "fn": [sha("ann")],
        "external_id": [sha("clu_1")]}


def test_only_a_denied_purpose_refuses():
    denied = {"$consent": {"marketing": "denied", "analytics": "granted"}}
    assert payloads.consent_refusal("marketing", [denied])
    assert payloads.consent_refusal("analytics", [denied]) is None
    assert payloads.consent_refusal("marketing", [{}]) is None
    assert payloads.consent_refusal("marketing", [{"$consent": "denied"}]) is None


def test_a_denial_on_any_device_outweighs_a_grant_written_later_elsewhere():
    later_grant = {"$consent": {"marketing": "granted"}}
    denied = {"$consent": {"marketing": "denied"}}
    assert payloads.consent_refusal("marketing", [later_grant, denied])
