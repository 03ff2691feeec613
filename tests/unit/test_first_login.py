"""A known person's first login on a device only anonymous use has held (resolver case 6c,
docs/identity.md#a-known-persons-first-login): the login takes its own session, not the
device, whose older history and later use may be the owner's of a borrowed laptop."""

from __future__ import annotations

from dataclasses import replace

from converge_graph.core.policy import Policy
from tests.unit.test_batch_replay import replay, write

LAPTOP = "urn:cookie:laptop"
PHONE = "urn:cookie:phone"
MUM = "urn:email:mum@x.com"
VISITOR = "urn:customer_id:visitor"
STRANGER = "urn:email:stranger@evil.example"
HOUR = 60
DAY = 24 * HOUR


def known_visitor(*later: object, visitor_minute: int = DAY) -> list:
    """Mum browses her laptop anonymously for a day; a visitor, whose account is known from
    their own phone, browses on it for two minutes and logs in."""
    return [write(VISITOR, cookie="phone", event_id="visitor-phone", minute=0),
            write(cookie="laptop", event_id="mum-1", minute=10),
            write(cookie="laptop", event_id="mum-2", minute=5 * HOUR),
            write(cookie="laptop", event_id="visitor-views", minute=visitor_minute),
            write(VISITOR, cookie="laptop", event_id="visitor-login", minute=visitor_minute + 2),
            *later]


def performers(overlay) -> dict[str, str]:
    return {eid: overlay.find(overlay.nb.profile_cluster[ev.performer])
            for eid, ev in overlay.nb.events.items() if ev.performer}


def test_a_known_visitors_login_takes_its_session_not_the_laptops_older_history():
    results, overlay = replay(known_visitor())
    on = performers(overlay)
    assert on["visitor-views"] == on["visitor-login"] == on["visitor-phone"]
    assert on["mum-1"] == on["mum-2"] != on["visitor-login"]


def test_the_laptops_older_history_is_reported_as_kept_apart():
    results, overlay = replay(known_visitor())
    login = results[4]
    assert [(i["alias"], i["reason"].split(":")[0]) for i in login["ignored_aliases"]] == [
        (LAPTOP, "first_login")]
    kept_apart = [(c["kind"], c["alias"], c["profile_id"], c["other_profile_id"])
                  for c in overlay.conflicts if c["kind"] == "first_login"]
    assert kept_apart == [("first_login", LAPTOP, login["profile_id"], results[1]["profile_id"])]


def test_after_the_visitors_session_the_laptop_is_shared_and_the_owners_use_is_not_theirs():
    results, overlay = replay(known_visitor(
        write(cookie="laptop", event_id="mum-next-day", minute=2 * DAY)))
    on = performers(overlay)
    assert on["mum-next-day"] != on["visitor-login"]


def test_a_login_with_no_session_before_it_takes_the_devices_whole_history():
    """Logging in straight away: nothing on the device tells a visitor apart."""
    results, overlay = replay([
        write(VISITOR, cookie="phone", event_id="phone", minute=0),
        write(cookie="laptop", event_id="browse", minute=10),
        write(VISITOR, cookie="laptop", event_id="login", minute=DAY)])
    on = performers(overlay)
    assert on["browse"] == on["login"] == on["phone"]
    assert results[2]["ignored_aliases"] == []


def new_phone(*later: object) -> list:
    """A known person browses on a device for the first time and logs in two minutes on."""
    return [write(VISITOR, cookie="laptop", event_id="laptop", minute=0),
            write(cookie="phone", event_id="views", minute=DAY),
            write(VISITOR, cookie="phone", event_id="login", minute=DAY + 2),
            *later]


def test_a_login_in_a_devices_first_session_takes_the_session_not_the_device():
    """Whose is a device a known person logs in on during its very first session? Their
    new phone, or a tablet they borrowed for five minutes: nothing at write time tells
    these apart, so the login takes the session's events and the device stays shared."""
    results, overlay = replay(new_phone())
    on = performers(overlay)
    assert on["views"] == on["login"] == on["laptop"]
    assert [i["reason"].split(":")[0] for i in results[2]["ignored_aliases"]] == [
        "first_login"]
    device_profile = results[1]["profile_id"]
    assert overlay.find(overlay.nb.profile_cluster[device_profile]) != results[2]["cluster_id"]
    assert [(c["alias"], c["other_profile_id"]) for c in overlay.conflicts
            if c["kind"] == "first_login"] == [(PHONE, device_profile)]


def test_the_owners_later_use_of_a_tablet_a_visitor_logged_in_on_first_is_not_the_visitors():
    """The family's new tablet: a visitor known from their own phone is the first to use
    it, logs in, and leaves. The family's browsing the next day is no one's, not the
    visitor's (before this rule the tablet joined the visitor for good)."""
    _, overlay = replay(new_phone(write(cookie="phone", event_id="family", minute=2 * DAY)))
    on = performers(overlay)
    assert on["family"] != on["login"]


def test_a_persons_own_new_device_joins_its_anonymous_use_at_their_next_login_on_it():
    """What the rule costs a person's own new phone: its anonymous use between their
    logins is theirs only once they log in on it again (a missed merge meanwhile, never a
    false one); after their last login it waits for the next."""
    _, overlay = replay(new_phone(
        write(cookie="phone", event_id="next-day", minute=2 * DAY),
        write(cookie="phone", event_id="day-3", minute=3 * DAY),
        write(VISITOR, cookie="phone", event_id="login-day-3", minute=3 * DAY + 2),
        write(cookie="phone", event_id="day-4", minute=4 * DAY)))
    on = performers(overlay)
    assert on["next-day"] == on["day-3"] == on["login-day-3"] == on["laptop"]
    assert on["day-4"] != on["laptop"]


def test_a_person_seen_for_the_first_time_takes_the_whole_history_of_the_device():
    """No one holds the identity yet: this device is where the person begins."""
    _, overlay = replay([
        write(cookie="laptop", event_id="browse", minute=0),
        write(cookie="laptop", event_id="views", minute=DAY),
        write(VISITOR, cookie="laptop", event_id="login", minute=DAY + 2)])
    on = performers(overlay)
    assert on["browse"] == on["views"] == on["login"]


def test_a_device_someone_identified_on_follows_the_hand_over_rule_instead():
    results, overlay = replay([
        write(VISITOR, cookie="phone", event_id="phone", minute=0),
        write(MUM, cookie="laptop", event_id="mum-login", minute=10),
        write(cookie="laptop", event_id="visitor-views", minute=DAY),
        write(VISITOR, cookie="laptop", event_id="visitor-login", minute=DAY + 2)])
    assert [i["reason"].split(":")[0] for i in results[3]["ignored_aliases"]] == [
        "device_handover"]
    assert not [c for c in overlay.conflicts if c["kind"] == "first_login"]


def test_an_order_carrying_the_cart_token_still_identifies_the_checkout_page():
    """The checkout domain's cookie, its cart token and the buyer's email: the token says
    whose the page is, so the order joins the page's session as before."""
    _, overlay = replay([
        write(MUM, cookie="phone", event_id="mum-phone", minute=0),
        write("urn:checkout:cart-1", cookie="checkout-page", event_id="started", minute=DAY),
        write(MUM, "urn:checkout:cart-1", cookie="checkout-page", event_id="order",
              minute=DAY + 1)])
    on = performers(overlay)
    assert on["started"] == on["order"] == on["mum-phone"]


def test_taking_the_whole_history_instead_is_policy(tmp_path):
    assert Policy().first_login_session_only is True
    _, overlay = replay(known_visitor(), Policy(first_login_session_only=False))
    on = performers(overlay)
    assert on["mum-1"] == on["visitor-login"]
    path = tmp_path / "policy.toml"
    path.write_text("first_login_session_only = false\n", encoding="utf-8")
    off = Policy.load(path)
    assert off.first_login_session_only is False
    assert Policy.model_validate_json(off.model_dump_json()) == off


def test_without_session_stitching_the_rule_has_no_session_to_go_by():
    _, overlay = replay(known_visitor(), Policy(session_minutes=0))
    on = performers(overlay)
    assert on["mum-1"] == on["visitor-login"]


# A hostile page knows the victim's cookie id and posts it from the browser (public web
# token: untrusted claims) with an email of its own that it already holds elsewhere.

def test_a_hostile_page_cannot_pull_a_victims_anonymous_history_to_its_own_identity():
    writes = [write(STRANGER, cookie="attacker", event_id="attacker", minute=0),
              write(cookie="laptop", event_id="victim-yesterday", minute=10),
              write(cookie="laptop", event_id="victim-now", minute=DAY),
              replace(write(STRANGER, cookie="laptop", event_id="forged", minute=DAY + 1),
                      trusted=False)]
    _, overlay = replay(writes)
    on = performers(overlay)
    # At most the victim's live session, which the page could have posted itself; never
    # the victim's older history. Without the rule the page's claim took it all.
    assert on["victim-yesterday"] != on["forged"]
    _, before = replay(writes, Policy(first_login_session_only=False))
    assert performers(before)["victim-yesterday"] == performers(before)["forged"]


def test_a_hostile_page_cannot_split_an_identified_victim_with_it():
    """The rule never touches a device its person identified on: the victim's laptop and
    their identified history stay one, whatever the page posts."""
    writes = [write(STRANGER, cookie="attacker", event_id="attacker", minute=0),
              write(cookie="laptop", event_id="victim-browse", minute=10),
              write(MUM, cookie="laptop", event_id="victim-login", minute=20),
              write(cookie="laptop", event_id="victim-now", minute=DAY),
              replace(write(STRANGER, cookie="laptop", event_id="forged", minute=DAY + 1),
                      trusted=False),
              write(MUM, cookie="laptop", event_id="victim-again", minute=DAY + 30)]
    results, overlay = replay(writes)
    on = performers(overlay)
    assert on["victim-browse"] == on["victim-login"] == on["victim-again"] != on["forged"]
    assert not [c for c in overlay.conflicts if c["kind"] == "first_login"]


def test_a_hostile_page_cannot_take_a_new_devices_later_use_with_one_forged_login():
    """The victim's device is new (its whole use is the live session). The page's forged
    login takes that session, as it could by posting it itself, but not the device: the
    victim's browsing the next day does not follow the page's identity (before this rule
    the device joined the page's claim and every later page view went with it)."""
    writes = [write(STRANGER, cookie="attacker", event_id="attacker", minute=0),
              write(cookie="laptop", event_id="victim-now", minute=DAY),
              replace(write(STRANGER, cookie="laptop", event_id="forged", minute=DAY + 1),
                      trusted=False),
              write(cookie="laptop", event_id="victim-tomorrow", minute=2 * DAY)]
    _, overlay = replay(writes)
    assert performers(overlay)["victim-tomorrow"] != performers(overlay)["forged"]
