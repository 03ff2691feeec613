"""Alias URNs (docs/identity.md#aliases):
parsed, normalised so the same identifier meets itself, junk screened."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from converge_graph.core.aliases import parse_alias, screen, split_urn
from converge_graph.core.policy import Policy
from converge_graph.errors import InvalidAlias

POLICY = Policy()


def urn(raw: str, region: str = "US") -> str:
    return parse_alias(raw, POLICY, region).urn


# -- form ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["mailto:x", "urn::x", "urn:email:", "urn:email:   ", "urn:1email:x", "urn:e-mail:x",
     "urn:" + "t" * 33 + ":x", "email:jane@shop.com", "urn:email", ""],
)
def test_malformed_urn_is_a_client_error_naming_the_field(raw):
    with pytest.raises(InvalidAlias) as err:
        split_urn(raw, "aliases[3]")
    assert err.value.field == "aliases[3]"
    assert err.value.status == 422
    assert "aliases[3]" in err.value.message


def test_non_string_alias_is_a_client_error():
    with pytest.raises(InvalidAlias, match="must be a string"):
        split_urn(42, "aliases[0]")


def test_type_is_case_folded_and_value_trimmed():
    assert split_urn("  urn:Customer_ID:  42  ") == ("customer_id", "42")


def test_type_may_have_32_characters_and_value_512():
    assert split_urn("urn:" + "t" * 32 + ":x")[0] == "t" * 32
    assert split_urn("urn:x:" + "v" * 512)[1] == "v" * 512
    with pytest.raises(InvalidAlias, match="1 to 512"):
        split_urn("urn:x:" + "v" * 513)


def test_value_may_contain_colons():
    assert urn("urn:shopify_order:gid://shopify/Order:1") == "urn:shopify_order:gid://shopify/Order:1"


# -- normalisation ---------------------------------------------------------------------


def test_email_is_trimmed_and_lower_cased():
    assert urn("urn:email: John.Smith@Apple.com ") == "urn:email:john.smith@apple.com"


def test_email_without_a_domain_is_ignored_with_reason():
    with pytest.raises(ValueError, match="invalid email"):
        parse_alias("urn:email:john.smith", POLICY, "US")


def test_phone_is_normalised_to_e164_with_default_region():
    assert urn("urn:phone:(415) 555-2671") == "urn:phone:+14155552671"
    assert urn("urn:phone:020 7946 0958", region="GB") == "urn:phone:+442079460958"


def test_phone_with_country_code_ignores_the_default_region():
    assert urn("urn:phone:+44 20 7946 0958", region="US") == "urn:phone:+442079460958"


def test_phone_that_is_no_number_is_ignored_with_reason():
    with pytest.raises(ValueError, match="invalid phone"):
        parse_alias("urn:phone:call me maybe", POLICY, "US")
    with pytest.raises(ValueError, match="invalid phone"):
        parse_alias("urn:phone:+1 555", POLICY, "US")


def test_other_types_keep_their_case():
    assert urn("urn:customer_id: AbC-42 ") == "urn:customer_id:AbC-42"
    assert urn("urn:cookie:Ab9") == "urn:cookie:Ab9"


# -- junk ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["urn:customer_id:null", "urn:user_id:undefined", "urn:cookie:None", "urn:customer_id:NaN",
     "urn:x:true", "urn:x:false", "urn:x:0", "urn:x:-1", "urn:cart:[object Object]",
     "urn:user_id:anonymous", "urn:user_id:Guest", "urn:x:id", "urn:x:email",
     "urn:user_id:not_authenticated", "urn:customer_id:00000000-0000-0000-0000-000000000000",
     "urn:x:---"],
)
def test_placeholder_value_is_ignored_with_reason(raw):
    with pytest.raises(ValueError, match="blocked"):
        parse_alias(raw, POLICY, "US")


@pytest.mark.parametrize(
    "raw", ["urn:email:test@test.com", "urn:email:Jane@Example.com", "urn:email:x@example.org"]
)
def test_placeholder_email_is_ignored_with_reason(raw):
    with pytest.raises(ValueError, match="blocked"):
        parse_alias(raw, POLICY, "US")


def test_real_values_resembling_junk_are_kept():
    assert urn("urn:customer_id:1000") == "urn:customer_id:1000"
    assert urn("urn:user_id:guest-7") == "urn:user_id:guest-7"
    assert urn("urn:email:jane@example.co.uk") == "urn:email:jane@example.co.uk"


def test_block_list_is_configurable_per_type():
    policy = Policy(blocked_values={"cart": ["empty"]}, blocked_patterns={})
    assert parse_alias("urn:customer_id:empty", policy, "US").urn == "urn:customer_id:empty"
    with pytest.raises(ValueError, match="blocked"):
        parse_alias("urn:cart:EMPTY", policy, "US")
    # the default lists were replaced, not extended
    assert parse_alias("urn:cart:null", policy, "US").urn == "urn:cart:null"


# -- screening a write -----------------------------------------------------------------


def test_screen_keeps_the_event_and_reports_each_ignored_alias_with_its_reason():
    result = screen(
        ["urn:email:Jane@Shop.com", "urn:customer_id:undefined", "urn:email:nope"], POLICY, "US"
    )
    assert result.urns == ["urn:email:jane@shop.com"]
    assert [i["alias"] for i in result.ignored] == ["urn:customer_id:undefined", "urn:email:nope"]
    assert "blocked" in result.ignored[0]["reason"]
    assert "invalid email" in result.ignored[1]["reason"]


def test_screen_collapses_aliases_that_normalise_to_the_same_urn():
    result = screen(["urn:email:jane@shop.com", "urn:EMAIL: JANE@shop.com"], POLICY, "US")
    assert result.urns == ["urn:email:jane@shop.com"]
    assert result.ignored == []


def test_malformed_urn_among_good_ones_names_its_index():
    with pytest.raises(InvalidAlias) as err:
        screen(["urn:email:jane@shop.com", "urn::x"], POLICY, "US")
    assert err.value.field == "aliases[1]"


def test_at_most_ten_aliases_per_write():
    ten = [f"urn:cookie:c{i}" for i in range(10)]
    assert len(screen(ten, POLICY, "US").accepted) == 10
    with pytest.raises(InvalidAlias, match="at most 10") as err:
        screen([*ten, "urn:cookie:c10"], POLICY, "US")
    assert err.value.field == "aliases"


def test_alias_limit_is_configurable():
    with pytest.raises(InvalidAlias, match="at most 2"):
        screen(["urn:a:1", "urn:b:2", "urn:c:3"], Policy(max_aliases=2), "US")


# -- properties for arbitrary text -----------------------------------------------------

TYPES = st.sampled_from(["email", "phone", "cookie", "customer_id", "EMAIL", "Phone", "x_1"])
VALUES = st.one_of(
    st.text(max_size=40),
    st.emails().map(lambda e: f"  {e.upper()} "),
    st.from_regex(r"\+?[0-9 ()\-]{3,18}", fullmatch=True),
    st.sampled_from(["null", "0000", "test@test.com", "a@example.com", "[object Object]"]),
)
URN_LIKE = st.one_of(st.text(max_size=60), st.builds(lambda t, v: f"urn:{t}:{v}", TYPES, VALUES))


@settings(max_examples=500, deadline=None)
@given(raw=URN_LIKE, region=st.sampled_from(["US", "GB", "DE"]))
@example(raw="urn:email:İ@a.com", region="US")
@example(raw="urn:email:ß@ẞ.de", region="DE")
@example(raw="urn:phone:+1 (415) 555-2671", region="GB")
def test_parsing_returns_a_fixed_point_or_raises_only_documented_errors(raw, region):
    try:
        alias = parse_alias(raw, POLICY, region)
    except InvalidAlias:
        return  # malformed: a client bug, 422
    except ValueError:
        return  # well formed but ignored (InvalidAlias is not a ValueError)
    assert alias.urn == f"urn:{alias.type}:{alias.value}"
    assert 1 <= len(alias.value) <= 512
    again = parse_alias(alias.urn, POLICY, region)
    assert again == alias


@settings(max_examples=300, deadline=None)
@given(raws=st.lists(URN_LIKE, max_size=12))
def test_screen_raises_only_invalid_alias_and_accepts_only_fixed_points(raws):
    try:
        result = screen(raws, POLICY, "US")
    except InvalidAlias:
        return
    assert len(result.accepted) + len(result.ignored) <= len(raws)
    assert len(set(result.urns)) == len(result.urns)
    for alias in result.accepted:
        assert screen([alias.urn], POLICY, "US").urns == [alias.urn]
