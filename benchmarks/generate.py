"""Seeded, realistic customer event streams with ground truth.

Every person browses on 1–4 devices (a cookie each), signs up to the newsletter
(adding an email), logs in (adding a ``customer_id``), is seen by the backend
(server-side events carrying email and ``customer_id``), and checks out on another
domain: the shop hands the cart over with ``set`` + ``urn:checkout:<token>``, the
checkout domain (its own cookie) reports the order with ``forward`` and an
``eventID``, and the backend reports the same order with the same ``event_id``.
Webhooks are sometimes retried (same ``event_id``).

Adversarial noise, all of it ground truth a resolver must not be fooled by:

* shared devices: 2 % of devices are also used by a second person (page views,
  sometimes that person's login);
* placeholder emails (``test@example.com`` …) typed into forms by some persons;
* case and whitespace variants of real emails (`` Jane.Doe@Shop.COM``).

Every device of a person is identified at least once (a login, a sign-up with the
real email or a checkout), so a perfect resolver reaches recall 1 up to the
shared devices. Output: :class:`Item` ``(channel, payload, person, unknowable)``, time-ordered;
``person`` is the ground truth and never part of the payload.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

START = datetime(2024, 1, 1, tzinfo=UTC)
PERIOD = timedelta(days=180)
ACTIVITY = timedelta(days=6)  # one person's events fall within this window
PLACEHOLDERS = ("test@example.com", "test@test.com", "noreply@gmail.com", "email@email.com")
DOMAINS = ("gmail.com", "yahoo.com", "outlook.com", "icloud.com", "shop-mail.de", "corp.io")
FIRST = ("jane", "john", "ana", "li", "omar", "sara", "tom", "eva", "raj", "mia", "leo", "zoe")
LAST = ("smith", "doe", "garcia", "chen", "khan", "rossi", "novak", "berg", "silva", "kim")
PAGES = ("/", "/products", "/products/shoe-1", "/products/bag-7", "/sale", "/blog", "/cart")
MEAN_EVENTS_PER_PERSON = 14.6  # calibrated: see persons_for()


class Item(NamedTuple):
    channel: str  # 'web' (POST /v1/collect, browser shape) | 'webhook' (server-side shape)
    payload: dict[str, Any]
    person: int  # ground truth, never sent
    # A second person's anonymous event on someone else's device: nothing in it tells
    # the two apart, so no resolver can place it right; quality is reported without too.
    unknowable: bool = False


class _Stamped(NamedTuple):
    at: datetime
    seq: int
    item: Item


def _iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _variant(rng: random.Random, email: str) -> str:
    """What people and forms make of an email: case changes and stray whitespace."""
    local, domain = email.split("@")
    pick = rng.randrange(4)
    if pick == 0:
        return f" {local.capitalize()}@{domain.capitalize()}"
    if pick == 1:
        return email.upper() + " "
    if pick == 2:
        return f"{local.title()}@{domain.upper()}"
    return f"\t{email}\t"


class _Person:
    def __init__(self, rng: random.Random, index: int) -> None:
        self.index = index
        self.email = (f"{rng.choice(FIRST)}.{rng.choice(LAST)}{index}@"
                      f"{rng.choice(DOMAINS)}")
        self.customer_id = f"C{100000 + index}" if rng.random() < 0.7 else None
        self.placeholder = rng.choice(PLACEHOLDERS) if rng.random() < 0.04 else None
        n_devices = rng.choices((1, 2, 3, 4), weights=(45, 30, 15, 10))[0]
        self.cookies = [f"ck{rng.getrandbits(64):016x}" for _ in range(n_devices)]
        self.start = START + PERIOD * rng.random()


class _Stream:
    def __init__(self, rng: random.Random, retry_rate: float) -> None:
        self.rng = rng
        self.retry_rate = retry_rate
        self.out: list[_Stamped] = []

    def add(self, at: datetime, channel: str, payload: dict[str, Any], person: int,
            unknowable: bool = False) -> None:
        payload = {**payload, "timestamp": _iso(at)}
        self.out.append(_Stamped(at, len(self.out), Item(channel, payload, person, unknowable)))

    def web(self, at: datetime, person: int, cookie: str, event: str | None,
            aliases: list[str] | None = None, method: str = "track",
            event_id: str | None = None, unknowable: bool = False, **fields: Any) -> None:
        body: dict[str, Any] = {"method": method, "cookieId": cookie}
        if event is not None:
            body["eventName"] = event
        if aliases:
            body["aliases"] = aliases
        if event_id is not None:
            body["eventID"] = event_id
        body.update(fields)
        self.add(at, "web", body, person, unknowable)

    def hook(self, at: datetime, person: int, event: str, event_id: str, aliases: list[str],
             **fields: Any) -> None:
        body = {"event_name": event, "event_id": event_id, "aliases": aliases, **fields}
        self.add(at, "webhook", body, person)
        if self.rng.random() < self.retry_rate:  # the sender timed out and posts it again
            self.add(at + timedelta(minutes=self.rng.randint(1, 30)), "webhook", body, person)


def _person_events(s: _Stream, p: _Person) -> None:
    rng = s.rng

    def when() -> datetime:
        return p.start + ACTIVITY * rng.random()

    def typed_email() -> str:
        if p.placeholder and rng.random() < 0.5:
            return p.placeholder
        return _variant(rng, p.email) if rng.random() < 0.2 else p.email

    identified: set[str] = set()
    for n, cookie in enumerate(p.cookies):
        for _ in range(1 + min(int(rng.expovariate(1 / 3.5)), 20)):
            s.web(when(), p.index, cookie, "Page View",
                  properties={"path": rng.choice(PAGES), "referrer": rng.choice(("", "google"))})
        if rng.random() < (0.5 if n == 0 else 0.2):
            email = typed_email()
            s.web(when(), p.index, cookie, "Subscribed To Newsletter", [f"urn:email:{email}"],
                  profileProperties={"$email": email.strip(), "newsletter": True})
            if email != p.placeholder:
                identified.add(cookie)
        if p.customer_id and rng.random() < 0.6:
            s.web(when(), p.index, cookie, "Logged In", [f"urn:customer_id:{p.customer_id}"])
            identified.add(cookie)

    server_aliases = [f"urn:email:{p.email}"]
    if p.customer_id:
        server_aliases.append(f"urn:customer_id:{p.customer_id}")
        for k in range(rng.randint(1, 3)):
            s.hook(when(), p.index, rng.choice(("Subscription Renewed", "Profile Updated")),
                   f"srv-{p.index}-{k}", list(server_aliases),
                   properties={"plan": rng.choice(("free", "pro"))},
                   profile_properties={"plan": rng.choice(("free", "pro")),
                                       "$first_name": p.email.split(".")[0].title()})

    # Orders: every device not yet identified checks out once; others sometimes.
    orders = [c for c in p.cookies if c not in identified]
    orders += [c for c in p.cookies if c in identified and rng.random() < 0.25]
    for k, cookie in enumerate(orders):
        at = when()
        token = f"tok{rng.getrandbits(48):012x}"
        checkout_cookie = f"co{rng.getrandbits(64):016x}"  # the checkout domain's own cookie
        order_id = f"ord-{p.index}-{k}"
        total = round(rng.uniform(10, 400), 2)
        s.web(at, p.index, cookie, None, [f"urn:checkout:{token}"], method="set")
        s.web(at + timedelta(seconds=20), p.index, checkout_cookie, "Checkout Started",
              [f"urn:checkout:{token}"], properties={"total": total})
        email = typed_email()
        s.web(at + timedelta(seconds=90), p.index, checkout_cookie, "Order Completed",
              [f"urn:email:{email}", f"urn:checkout:{token}"], method="forward",
              event_id=order_id, properties={"total": total, "currency": "EUR"})
        s.hook(at + timedelta(seconds=95), p.index, "Order Completed", order_id,
               [*server_aliases, f"urn:checkout:{token}"],
               properties={"total": total, "currency": "EUR", "items": rng.randint(1, 5)})


def _shared_devices(s: _Stream, people: list[_Person], rate: float) -> None:
    """A second person on someone else's device: page views, sometimes a login."""
    rng = s.rng
    devices = [(p, c) for p in people for c in p.cookies]
    if len(people) < 2:
        return
    for owner, cookie in rng.sample(devices, round(len(devices) * rate)):
        guest = owner
        while guest is owner:
            guest = rng.choice(people)
        at = owner.start + ACTIVITY * rng.random()
        for n in range(rng.randint(1, 3)):
            s.web(at + timedelta(minutes=n), guest.index, cookie, "Page View",
                  properties={"path": rng.choice(PAGES)}, unknowable=True)
        if guest.customer_id and rng.random() < 0.5:
            s.web(at + timedelta(minutes=5), guest.index, cookie, "Logged In",
                  [f"urn:customer_id:{guest.customer_id}"])


def generate(persons: int, seed: int = 7, *, shared_device_rate: float = 0.02,
             retry_rate: float = 0.05, first_person: int = 0) -> list[Item]:
    """The stream of ``persons`` people, in timestamp order; reproducible from ``seed``.

    ``first_person`` numbers the people (their emails and customer ids derive from it),
    so streams with disjoint ranges never share an identifier.
    """
    rng = random.Random(seed)
    people = [_Person(rng, first_person + i) for i in range(persons)]
    stream = _Stream(rng, retry_rate)
    for person in people:
        _person_events(stream, person)
    _shared_devices(stream, people, shared_device_rate)
    stream.out.sort(key=lambda s: (s.at, s.seq))
    return [s.item for s in stream.out]


def persons_for(events: int) -> int:
    return max(2, round(events / MEAN_EVENTS_PER_PERSON))


def generate_events(events: int, seed: int = 7, first_person: int = 0) -> list[Item]:
    """About ``events`` items: whole persons, never a truncated one."""
    return generate(persons_for(events), seed, first_person=first_person)


def as_webhook(item: Item) -> dict[str, Any]:
    """A browser item as a server-side relay would post it: the cookie becomes an alias.

    The batch endpoint and ``import`` take the webhook shape only; the relayed write is
    resolved by alias priority instead of cookie first, which can place an event on a
    different profile of the same person but never changes which aliases meet.
    """
    if item.channel == "webhook":
        return item.payload
    body = item.payload
    out: dict[str, Any] = {
        "method": body.get("method", "track"),
        "aliases": [*body.get("aliases", []), f"urn:cookie:{body['cookieId']}"],
        "timestamp": body["timestamp"],
    }
    for src, dst in (("eventName", "event_name"), ("properties", "properties"),
                     ("profileProperties", "profile_properties"), ("eventID", "event_id")):
        if src in body:
            out[dst] = body[src]
    return out


def describe(items: list[Item]) -> dict[str, Any]:
    """What a stream holds, for the report."""
    persons = {i.person for i in items}
    web = sum(1 for i in items if i.channel == "web")
    ids = [i.payload.get("event_id") or i.payload.get("eventID") for i in items]
    with_id = [x for x in ids if x]
    return {"events": len(items), "persons": len(persons), "web": web,
            "webhook": len(items) - web, "with_event_id": len(with_id),
            "unknowable": sum(1 for i in items if i.unknowable),
            "repeated_event_ids": len(with_id) - len(set(with_id))}


if __name__ == "__main__":
    import json
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    sample = generate_events(n)
    print(json.dumps(describe(sample)))
    for item in sample[:5]:
        print(item.channel, item.person, json.dumps(item.payload))
