"""How properties are stored (docs/identity.md#how-properties-are-stored):
lossless, queryable, latest event time wins."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from converge_graph.core.properties import (
    apply_latest,
    dumps,
    event_node_properties,
    merged_view,
    profile_node_value,
)

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def write(state, incoming, ts):
    props, times, _ = apply_latest(state[0], state[1], incoming, ts)
    return props, times


# -- events ----------------------------------------------------------------------------


def test_top_level_scalars_become_queryable_prop_keys():
    node = event_node_properties(
        {"total": 99.5, "currency": "EUR", "gift": False, "qty": 2, "tags": ["a", "b"]}
    )
    assert node == {"prop.total": 99.5, "prop.currency": "EUR", "prop.gift": False,
                    "prop.qty": 2, "prop.tags": ["a", "b"]}


def test_nested_and_mixed_values_are_not_node_properties():
    node = event_node_properties(
        {"items": [{"sku": "A"}], "mixed": [1, "a"], "bools_and_ints": [True, 1], "empty": [],
         "address": {"city": "Oslo"}, "nothing": None}
    )
    assert node == {}


def test_integers_beyond_64_bits_stay_in_json_only():
    big = 2**63
    assert event_node_properties({"big": big, "small": big - 1, "list": [1, big]}) == {
        "prop.small": big - 1
    }
    assert profile_node_value(-(2**63) - 1) == str(-(2**63) - 1)


def test_keys_neo4j_cannot_name_stay_in_json_only():
    assert event_node_properties({"": 1, "a\x00b": 2, " ": 3}) == {"prop. ": 3}
    props, _, changes = apply_latest({}, {}, {"": 1, "a\x00b": 2, "ok": 3}, T0)
    assert props == {"": 1, "a\x00b": 2, "ok": 3}
    assert changes == {"ok": 3}


def test_hostile_keys_are_kept_verbatim():
    key = "a`}) DETACH DELETE n //"
    assert event_node_properties({key: 1}) == {f"prop.{key}": 1}
    _, _, changes = apply_latest({}, {}, {key: "x"}, T0)
    assert changes == {key: "x"}


def test_json_copy_is_lossless_and_stable():
    value = {"b": [1, 2.5, None, {"é": "ü"}], "a": True}
    text = dumps(value)
    assert json.loads(text) == value
    assert text == dumps(json.loads(text))
    assert "é" in text  # not escaped


# -- profiles --------------------------------------------------------------------------


def test_nested_profile_value_is_stored_on_the_node_as_json_text():
    assert profile_node_value({"city": "Oslo"}) == '{"city":"Oslo"}'
    assert profile_node_value([1, "a"]) == '[1,"a"]'
    assert profile_node_value("Jane") == "Jane"
    assert profile_node_value(None) is None


def test_latest_event_time_wins_per_key():
    state = write(({}, {}), {"$first_name": "Jane", "$city": "Oslo"}, at(10))
    state = write(state, {"$first_name": "Janet"}, at(5))  # older event, arrives late
    state = write(state, {"$city": "Bergen"}, at(20))
    assert state[0] == {"$first_name": "Jane", "$city": "Bergen"}


def test_late_older_write_changes_no_node_property():
    props, times, _ = apply_latest({}, {}, {"plan": "pro"}, at(10))
    _, _, changes = apply_latest(props, times, {"plan": "free"}, at(1))
    assert changes == {}


def test_a_tie_goes_to_the_later_write():
    state = write(({}, {}), {"plan": "free"}, T0)
    assert write(state, {"plan": "pro"}, T0)[0] == {"plan": "pro"}


def test_null_removes_a_key_from_the_profile():
    state = write(({}, {}), {"plan": "pro", "city": "Oslo"}, at(1))
    props, _, changes = apply_latest(state[0], state[1], {"plan": None}, at(2))
    assert props == {"city": "Oslo"}
    assert changes == {"plan": None}


def test_reserved_node_fields_cannot_be_overwritten_by_properties():
    props, _, changes = apply_latest({}, {}, {"cluster_id": "evil", "profile_id": "x", "a": 1}, T0)
    assert changes == {"a": 1}
    assert props == {"cluster_id": "evil", "profile_id": "x", "a": 1}  # still kept as data


def test_times_compare_correctly_across_microseconds():
    state = write(({}, {}), {"k": "later"}, T0 + timedelta(microseconds=10))
    assert write(state, {"k": "earlier"}, T0 + timedelta(microseconds=9))[0] == {"k": "later"}


# -- merged view of a cluster -----------------------------------------------------------


def test_merged_view_takes_per_key_the_latest_value_across_profiles():
    laptop = write(({}, {}), {"$email": "jane@shop.com", "plan": "free"}, at(1))
    phone = write(({}, {}), {"plan": "pro", "$city": "Oslo"}, at(5))
    server = write(({}, {}), {"$email": "jane@work.com"}, at(3))
    assert merged_view([laptop, phone, server]) == {
        "$city": "Oslo", "$email": "jane@work.com", "plan": "pro"}


def test_merged_view_does_not_depend_on_profile_order():
    a = write(({}, {}), {"k": "a"}, at(1))
    b = write(({}, {}), {"k": "b"}, at(2))
    assert merged_view([a, b]) == merged_view([b, a]) == {"k": "b"}


def test_a_later_removal_hides_an_older_value_of_another_profile():
    laptop = write(({}, {}), {"coupon": "SPRING"}, at(1))
    server = write(write(({}, {}), {"coupon": "X"}, at(2)), {"coupon": None}, at(3))
    assert merged_view([laptop, server]) == {}


def test_merged_view_of_no_profiles_is_empty():
    assert merged_view([]) == {}
