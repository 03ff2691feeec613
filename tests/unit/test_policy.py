"""Matching policy (docs/identity.md#aliases, #merge-protection):
priorities, block lists and limits, serialisable data."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from converge_graph.core.policy import Policy


def test_priority_follows_the_spec_order():
    p = Policy()
    order = ["customer_id", "email", "phone", "checkout", "cart", "loyalty_card", "cookie"]
    ranks = [p.rank(t) for t in order]
    assert ranks == sorted(ranks)
    assert len(set(ranks)) == len(ranks)


@pytest.mark.parametrize("a, b", [("customer_id", "user_id"), ("checkout", "checkout_token"),
                                  ("cart", "cart_token")])
def test_both_spellings_of_a_type_rank_alike(a, b):
    assert Policy().rank(a) == Policy().rank(b)


def test_unknown_types_rank_between_cart_and_cookie():
    p = Policy()
    assert p.rank("cart") < p.rank("membership_no") < p.rank("cookie")


def test_priority_is_configurable():
    p = Policy(priority={"email": 0, "customer_id": 3}, other_priority=7)
    assert p.rank("email") < p.rank("customer_id") < p.rank("cookie") == 7


@pytest.mark.parametrize("value", ["", "null", "NULL", "Undefined", "[object Object]", "N/A"])
def test_exact_block_list_ignores_case(value):
    assert "placeholder" in Policy().block_reason("anything", value)


@pytest.mark.parametrize(
    "value", ["0", "000", "0-0-0", "--", "00000000-0000-0000-0000-000000000000"]
)
def test_values_of_only_zeroes_and_dashes_are_junk_for_every_type(value):
    assert Policy().block_reason("customer_id", value) is not None


@pytest.mark.parametrize("value", ["100", "0-1", "a0", "-"*3 + "x"])
def test_patterns_must_match_the_whole_value(value):
    assert Policy().block_reason("customer_id", value) is None


def test_email_placeholders_are_blocked_only_for_emails():
    p = Policy()
    assert p.block_reason("email", "bob@example.com") is not None
    assert p.block_reason("email", "noreply@shop.invalid") is not None
    assert p.block_reason("email", "test@test.com") is not None
    assert p.block_reason("coupon", "bob@example.com") is None


def test_block_reason_names_the_value_and_why():
    reason = Policy().block_reason("email", "bob@example.com")
    assert "bob@example.com" in reason and "example" in reason


def test_policy_round_trips_through_json_after_use():
    p = Policy(max_aliases=4, blocked_values={"*": ["junk"]})
    assert p.block_reason("x", "JUNK")  # fills the compiled caches
    data = json.loads(p.model_dump_json())
    assert set(data) == set(Policy.model_fields)  # no cache leaks into the serialised form
    assert Policy.model_validate(data) == p


def test_policy_loads_from_toml(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text('max_aliases = 3\n[priority]\nemail = 0\n[blocked_values]\n"*" = ["tbd"]\n')
    p = Policy.load(path)
    assert p.max_aliases == 3
    assert p.rank("email") == 0
    assert p.block_reason("x", "TBD") is not None
    assert p.block_reason("x", "null") is None  # the file's list replaces the default


def test_policy_loads_from_json(tmp_path):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"max_aliases": 2}))
    assert Policy.load(path).max_aliases == 2


def test_no_policy_file_means_the_defaults():
    assert Policy.load(None) == Policy()


def test_misspelt_policy_setting_is_refused():
    with pytest.raises(ValidationError, match="max_alias"):
        Policy.model_validate({"max_alias": 3})


def test_policy_is_immutable():
    with pytest.raises(ValidationError):
        Policy().max_aliases = 99


def test_default_lists_are_not_shared_between_policies():
    a = Policy()
    a.blocked_values["*"].append("mutated")
    assert Policy().block_reason("x", "mutated") is None


def test_merge_limits_default_to_one_customer_and_five_of_everything_but_cookies():
    p = Policy()
    assert (p.limit("customer_id"), p.limit("user_id"), p.limit("email"), p.limit("cart")) == (
        1, 1, 5, 5)
    assert p.limit("cookie") is None
    assert p.limit("anonymous_id") is None  # Segment device ids, like cookies
    assert p.unlimited_types == ["anonymous_id", "cookie"]


def test_merge_limits_are_configurable():
    p = Policy(limits={"email": 2, "cart": None}, default_limit=None)
    assert (p.limit("email"), p.limit("cart"), p.limit("customer_id")) == (2, None, None)
    assert p.unlimited_types == ["cart"]


def test_a_toml_policy_can_say_unlimited_since_toml_has_no_null(tmp_path):
    path = tmp_path / "policy.toml"
    path.write_text('[limits]\ncustomer_id = 1\nemail = 1\ncookie = "unlimited"\n')
    policy = Policy.load(path)
    assert (policy.limit("email"), policy.limit("cookie"), policy.limit("cart")) == (1, None, 5)
    assert policy.unlimited_types == ["cookie"]


def test_the_shipped_one_email_policy_loads():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    policy = Policy.load(root / "benchmarks" / "policies" / "one-email.toml")
    assert policy.limit("email") == 1 and policy.limit("cookie") is None


def test_session_stitching_is_on_by_default_serialised_and_never_negative(tmp_path):
    assert Policy().session_minutes == 30
    path = tmp_path / "policy.toml"
    path.write_text("session_minutes = 0\n")
    off = Policy.load(path)
    assert off.session_minutes == 0
    assert Policy.model_validate(json.loads(off.model_dump_json())) == off
    with pytest.raises(ValueError, match="session_minutes"):
        Policy(session_minutes=-1)
