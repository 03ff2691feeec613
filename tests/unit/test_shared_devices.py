"""Shared devices (resolver case 6, docs/identity.md#shared-devices) in the batch replay:
a device more than one person has used is no one's between sessions, and the cart token
a device handed on tells, once someone orders with it, who was at the device."""

from __future__ import annotations

from dataclasses import replace

from converge_graph.core.batch import AliasState, Overlay
from converge_graph.core.policy import Policy
from converge_graph.core.resolver import Holder, device_users
from converge_graph.core.trust import Trust
from tests.unit.test_batch_replay import NOW, T0, alias, neighbourhood, replay, write

LAPTOP = "urn:cookie:laptop"
MUM = "urn:email:mum@x.com"
GUEST = "urn:customer_id:visitor"
CART = "urn:checkout:cart-1"
HOUR = 60
DAY = 24 * HOUR


def visit(*later: object) -> list:
    """Mum logs in on her laptop and browses; a guest logs in on it once, hours later."""
    return [write(MUM, cookie="laptop", event_id="mum-login", minute=0),
            write(cookie="laptop", event_id="mum-browses", minute=2 * HOUR),
            write(GUEST, cookie="laptop", event_id="guest-login", minute=5 * HOUR),
            *later]


def test_the_day_after_a_visitors_login_the_laptops_browsing_is_no_ones_not_the_visitors():
    results, _ = replay(visit(write(cookie="laptop", event_id="next-day", minute=DAY)))
    mum, _, guest, next_day = results
    assert mum["cluster_id"] != guest["cluster_id"]  # the guest's login handed it over
    assert next_day["profile_id"] not in (mum["profile_id"], guest["profile_id"])
    assert next_day["cluster_id"] not in (mum["cluster_id"], guest["cluster_id"])


def test_within_the_visitors_session_the_laptop_still_follows_the_visitor():
    results, _ = replay(visit(write(cookie="laptop", event_id="guest-again",
                                    minute=5 * HOUR + 10)))
    assert results[3]["profile_id"] == results[2]["profile_id"]


def test_whoever_identifies_next_on_the_shared_laptop_takes_its_anonymous_profile():
    results, overlay = replay(visit(
        write(cookie="laptop", event_id="next-day", minute=DAY),
        write(cookie="laptop", event_id="next-day-2", minute=DAY + HOUR),
        write(MUM, cookie="laptop", event_id="mum-back", minute=2 * DAY)))
    mum, _, guest, next_day, next_day_2, back = results
    assert next_day_2["profile_id"] == next_day["profile_id"]  # the laptop's own profile
    assert back["cluster_id"] == mum["cluster_id"] != guest["cluster_id"]
    # Mum's login joined the laptop's own profile: its events are hers now.
    assert overlay.find(overlay.nb.profile_cluster[next_day["profile_id"]]) == back["cluster_id"]


def test_a_laptop_only_its_owner_uses_follows_them_from_one_day_to_the_next():
    results, _ = replay([write(MUM, cookie="laptop", event_id="login", minute=0),
                         write(cookie="laptop", event_id="next-day", minute=DAY),
                         write(cookie="laptop", event_id="week-later", minute=7 * DAY)])
    assert {r["profile_id"] for r in results} == {results[0]["profile_id"]}


def test_following_the_last_login_instead_is_policy():
    results, _ = replay(visit(write(cookie="laptop", event_id="next-day", minute=DAY)),
                        Policy(shared_device_own_profile=False))
    assert results[3]["profile_id"] == results[2]["profile_id"]


# The cart the laptop hands to the checkout domain: `set` + urn:checkout on the shop's
# page; then the backend reports the order with the buyer's email and that token.

def checkout(buyer: str = MUM, trusted: bool = True) -> list:
    """Mum browses her laptop anonymously; a guest logs in on it (which joins her
    anonymous history to the guest: nothing yet tells them apart); the next day mum
    checks out from it; half an hour later she browses on."""
    order = write(buyer, CART, event_id="order", minute=DAY + 2)
    if not trusted:
        order = replace(order, trusted=False)
    return [write(cookie="laptop", event_id="mum-browses", minute=0),
            write(GUEST, cookie="laptop", event_id="guest-login", minute=5 * HOUR),
            write(CART, cookie="laptop", minute=DAY),
            order,
            write(cookie="laptop", event_id="mum-browses-on", minute=DAY + 20)]


def test_an_order_from_a_cart_the_laptop_handed_on_says_who_was_at_the_laptop():
    results, overlay = replay(checkout())
    _, guest, cart, order, browses_on = results
    assert cart["cluster_id"] == guest["cluster_id"]  # the cart was minted on the guest's
    assert order["cluster_id"] != guest["cluster_id"]  # the order handed the token over
    assert browses_on["profile_id"] == order["profile_id"]  # mum, as after her own login
    assert {"urn": LAPTOP, "tokens": [CART]} in overlay.delta().handoffs


def test_after_the_buyers_session_the_laptop_is_shared_and_no_ones():
    writes = checkout()
    writes[-1] = write(cookie="laptop", event_id="mum-browses-later", minute=2 * DAY)
    results, _ = replay(writes)
    assert results[-1]["cluster_id"] not in (results[1]["cluster_id"], results[3]["cluster_id"])


def test_a_browser_claim_with_someones_cart_token_does_not_pull_their_laptop_along():
    results, _ = replay(checkout("urn:email:stranger@x.com", trusted=False))
    assert results[-1]["cluster_id"] == results[1]["cluster_id"]  # still the laptop's person


def test_cart_tokens_telling_who_was_at_the_device_is_policy():
    results, overlay = replay(checkout(), Policy(handoff_types=[]))
    assert results[-1]["cluster_id"] == results[1]["cluster_id"]
    assert overlay.delta().handoffs == []


def test_device_users_count_only_vouched_later_token_users_for_anonymous_writes():
    held = {LAPTOP: [Holder("p-guest", "c-guest", T0, Trust.TRUSTED, T0)]}
    urns = {"c-guest": {GUEST}, "c-mum": {MUM}}
    buyer = Holder("p-mum", "c-mum", T0, Trust.TRUSTED, T0 + (NOW - T0) / 2)
    at = buyer.last_seen
    assert device_users([alias(LAPTOP)], held, urns, Policy(), at, {LAPTOP: buyer}
                        )[LAPTOP][-1] == buyer
    claimed = replace(buyer, trust=Trust.CLAIM)
    assert device_users([alias(LAPTOP)], held, urns, Policy(), at, {LAPTOP: claimed}) is held
    # A write naming someone is no anonymous use: the device's holders stay as they are.
    assert device_users([alias(LAPTOP), alias(MUM)], held, urns, Policy(), at,
                        {LAPTOP: buyer}) is held


def test_an_unknown_write_time_leaves_the_devices_holders_as_they_are():
    held = {LAPTOP: [Holder("p-mum", "c-mum", T0, Trust.TRUSTED, T0),
                     Holder("p-guest", "c-guest", T0, Trust.TRUSTED, T0)]}
    urns = {"c-guest": {GUEST}, "c-mum": {MUM}}
    assert device_users([alias(LAPTOP)], held, urns, Policy(), None) is held


def test_a_shared_device_whose_last_user_never_identified_keeps_following_them():
    """The laptop's own anonymous profile (after a shared session) is no identified person:
    it keeps the laptop's anonymous use until someone identifies."""
    held = {LAPTOP: [Holder("p-guest", "c-guest", T0, Trust.TRUSTED, T0),
                     Holder("p-own", "c-own", T0, Trust.CLAIM, T0 + (NOW - T0) / 4)]}
    urns = {"c-guest": {GUEST}, "c-own": set()}
    assert device_users([alias(LAPTOP)], held, urns, Policy(), NOW) is held


def test_the_overlay_reads_the_token_users_it_was_given():
    """A token not in the batch (read beside its device by read_batch) still counts."""
    browse = write(cookie="laptop", event_id="browse", minute=30)
    nb = neighbourhood([browse], holders={LAPTOP: ["p-guest"]},
                       clusters={"p-guest": ("c-guest", 1), "p-mum": ("c-mum", 1)})
    nb.aliases[LAPTOP].last_seen = {"p-guest": T0}
    nb.aliases[LAPTOP].handed_on = [CART]
    nb.aliases[CART] = AliasState(["p-guest", "p-mum"], False, False,
                                  last_seen={"p-guest": T0, "p-mum": T0 + (NOW - T0) / 100})
    nb.cluster_urns.update({"c-guest": {GUEST}, "c-mum": {MUM}})
    result = Overlay(nb, Policy(), NOW).apply(0, browse)
    assert result["profile_id"] == "p-mum"


def test_both_rules_are_on_by_default_and_a_toml_policy_turns_them_off(tmp_path):
    assert Policy().shared_device_own_profile is True
    assert Policy().handoff_types == ["checkout", "checkout_token", "cart", "cart_token"]
    path = tmp_path / "policy.toml"
    path.write_text("shared_device_own_profile = false\nhandoff_types = []\n", encoding="utf-8")
    off = Policy.load(path)
    assert (off.shared_device_own_profile, off.handoff_types) == (False, [])
    assert Policy.model_validate_json(off.model_dump_json()) == off
