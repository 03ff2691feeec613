"""Shared devices (docs/identity.md#shared-devices), each write its own request and
transaction: a device more than one person used is no one's between sessions, and the
backend's order from a cart a device handed on says who was at that device."""

from __future__ import annotations

LAPTOP = "urn:cookie:mums-laptop"
CART = "urn:checkout:cart-77"
MUM = "urn:email:mum@x.com"


def at(hours: float) -> str:
    return f"2025-03-0{1 + int(hours // 24)}T{int(hours % 24):02d}:{int(hours * 60 % 60):02d}:00Z"


def browse(api, hours: float) -> dict:
    return api.webhook({"event_name": "Page View", "aliases": [LAPTOP], "timestamp": at(hours)})


def guest_logs_in_on_mums_laptop(api) -> dict:
    """Mum browses her laptop anonymously; a guest logs in on it once (which joins her
    anonymous history to the guest: nothing yet tells the two apart)."""
    browse(api, 0)
    return api.webhook({"event_name": "Logged In", "timestamp": at(5),
                        "aliases": ["urn:customer_id:visitor-9", LAPTOP]})


def test_the_backends_order_from_the_laptops_cart_says_who_browses_it_next(api):
    guest = guest_logs_in_on_mums_laptop(api)
    cart = api.webhook({"method": "set", "aliases": [CART, LAPTOP], "timestamp": at(24)})
    assert cart["cluster_id"] == guest["cluster_id"]  # the cart was minted on the guest's
    order = api.webhook({"event_name": "Order Completed", "event_id": "ORD-77",
                         "aliases": [MUM, CART], "timestamp": at(24.05)})
    assert order["cluster_id"] != guest["cluster_id"]
    assert [i["reason"].split(":")[0] for i in order["ignored_aliases"]] == ["device_handover"]

    # The order is mum at the laptop: her browsing right after it is hers …
    assert browse(api, 24.3)["profile_id"] == order["profile_id"]
    # … and the laptop, now used by two people, is no one's once her session is over.
    later = browse(api, 50)
    assert later["cluster_id"] not in (guest["cluster_id"], order["cluster_id"])
    assert browse(api, 50.2)["profile_id"] == later["profile_id"]
    # Mum logs in on it: that anonymous profile joins her, never the guest.
    back = api.webhook({"event_name": "Logged In", "aliases": [MUM, LAPTOP],
                        "timestamp": at(70)})
    assert back["cluster_id"] == api.cluster_of(MUM)["cluster_id"]
    assert {p["profile_id"] for p in api.cluster_of(MUM)["profiles"]} >= {
        later["profile_id"], order["profile_id"]}
    assert "urn:customer_id:visitor-9" not in api.cluster_of(MUM)["aliases"]


def test_a_hostile_page_posting_someones_cart_token_does_not_pull_their_laptop_along(api):
    """A cart token is a secret of one checkout, but a page that has one may post it: as a
    browser claim with its own email it takes the token (and its checkout session), never
    the laptop that handed it on."""
    guest = guest_logs_in_on_mums_laptop(api)
    api.webhook({"method": "set", "aliases": [CART, LAPTOP], "timestamp": at(24)})
    forged = api.collect({"method": "track", "eventName": "Order Completed",
                          "aliases": ["urn:email:mallory@evil.com", CART],
                          "timestamp": at(24.05)}, cookie="mallory-browser")
    assert forged["cluster_id"] != guest["cluster_id"]
    assert browse(api, 24.3)["cluster_id"] == guest["cluster_id"]
    assert LAPTOP not in api.cluster_of("urn:email:mallory@evil.com")["aliases"]
