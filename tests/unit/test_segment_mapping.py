"""The Segment → converge-graph mapping of docs/segment.md, pinned without Neo4j."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from converge_graph.service.ingest import Rejection, Write
from converge_graph.service.segment import segment_write

SOURCE = {"source_id": "src_1", "kind": "webhook"}
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def write(message: dict, **options) -> Write:
    out = segment_write(SOURCE, message, NOW, **options)
    assert isinstance(out, Write), out
    return out


def refused(message: dict) -> Rejection:
    out = segment_write(SOURCE, message, NOW)
    assert isinstance(out, Rejection), out
    return out


def test_ids_and_contact_traits_become_aliases():
    w = write({"type": "identify", "userId": 42, "anonymousId": " a-1 ",
               "traits": {"email": "J@x.io"}, "context": {"traits": {"phone": "+14155552671"}}})
    assert w.aliases == ["urn:user_id:42", "urn:anonymous_id:a-1", "urn:email:J@x.io",
                         "urn:phone:+14155552671"]


def test_identify_traits_are_profile_properties_and_win_over_context_traits():
    w = write({"type": "identify", "userId": "u", "traits": {"plan": "pro", "Odd Key": 1},
               "context": {"traits": {"plan": "free", "age": 30}}})
    assert w.profile_properties == {"plan": "pro", "Odd Key": 1, "age": 30}


def test_only_identify_sets_profile_properties():
    w = write({"type": "track", "userId": "u", "event": "E",
               "context": {"traits": {"plan": "free", "email": "a@b.io"}}})
    assert w.profile_properties == {} and "urn:email:a@b.io" in w.aliases


@pytest.mark.parametrize(("message", "name"), [
    ({"type": "track", "event": " Order Completed "}, "Order Completed"),
    ({"type": "page", "name": "Pricing"}, "Viewed Pricing Page"),
    ({"type": "screen", "name": "Home"}, "Viewed Home Screen"),
    ({"type": "page"}, "Page Viewed"),
    ({"type": "screen"}, "Screen Viewed"),
    ({"type": "identify"}, "Identify"),
    ({"type": "group", "groupId": "g"}, "Group"),
])
def test_event_names(message, name):
    assert write({**message, "anonymousId": "a"}).event_name == name


def test_message_id_is_the_event_id_and_everything_else_is_kept_under_segment():
    message = {"type": "track", "anonymousId": "a", "event": "E", "messageId": "m-1",
               "properties": {"x": 1}, "context": {"ip": "1.2.3.4"}, "writeKey": "secret",
               "integrations": {"All": False}}
    w = write(message)
    assert w.event_id == "m-1"
    assert w.properties["x"] == 1
    kept = w.properties["$segment"]
    assert kept["context"] == {"ip": "1.2.3.4"} and kept["integrations"] == {"All": False}
    assert "writeKey" not in kept  # the key is a credential, never stored


def test_group_id_is_an_event_property_never_an_alias():
    w = write({"type": "group", "userId": "u", "groupId": "acme", "traits": {"seats": 3}})
    assert w.aliases == ["urn:user_id:u"]
    assert (w.properties["groupId"], w.properties["traits"]) == ("acme", {"seats": 3})


def test_alias_previous_id_is_anonymous_unless_held_as_a_user_id():
    message = {"type": "alias", "previousId": "p", "userId": "u"}
    assert write(message).aliases == ["urn:anonymous_id:p", "urn:user_id:u"]
    assert write(message, previous_is_user=True).aliases == ["urn:user_id:p", "urn:user_id:u"]


def test_clock_skew_is_corrected_when_sent_at_is_known():
    fast = {"type": "track", "anonymousId": "a", "event": "E",
            "timestamp": "2030-01-01T12:59:00Z", "sentAt": "2030-01-01T13:00:00Z"}
    assert write(fast).timestamp == NOW - timedelta(minutes=1)
    original = {**fast, "originalTimestamp": "2030-01-01T12:50:00Z"}
    assert write(original).timestamp == NOW - timedelta(minutes=10)


def test_without_sent_at_the_timestamp_is_taken_as_sent_and_naive_times_are_utc():
    w = write({"type": "track", "anonymousId": "a", "event": "E",
               "timestamp": "2025-03-04T05:06:07"})
    assert w.timestamp == datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert write({"type": "track", "anonymousId": "a", "event": "E"}).timestamp == NOW


@pytest.mark.parametrize(("message", "field"), [
    ({"type": "track", "event": "E"}, "userId"),
    ({"type": "track", "anonymousId": "a"}, "event"),
    ({"type": "alias", "userId": "u"}, "previousId"),
    ({"type": "group", "userId": "u"}, "groupId"),
    ({"type": "nonsense", "userId": "u"}, "type"),
    ({"type": "track", "userId": True, "event": "E"}, "userId"),
    ({"type": "track", "userId": "u" * 513, "event": "E"}, "userId"),
    ({"type": "track", "userId": "u", "event": "E", "timestamp": "yesterday"}, "timestamp"),
    ({"type": "track", "userId": "u", "event": "E", "properties": []}, "properties"),
    ({"type": "track", "userId": "u", "event": "E", "messageId": {"a": 1}}, "messageId"),
])
def test_refusals_name_the_field(message, field):
    assert refused(message).field == field
