"""A sample data set for a first look: a few hundred customers of a small web shop.

``converge-graph demo load`` writes, through the same ingestion path as the API, what a
shop's browser snippet (datasource ``demo-web``) and backend (``demo-webhook``) would send:
pageviews on one to three devices per customer, newsletter sign-ups (email alias and
``$email``/``$first_name``/``$last_name``), logins with a customer id, checkouts on another
domain stitched by ``urn:checkout:…`` (``set``), and orders reported twice — by the thank-you
page (``forward`` with ``eventID``) and by the backend (same ``event_id``) — stored once.
A few households share a tablet (merge protection keeps the two people apart), and some
visitors type the placeholder ``test@test.com`` (blocked, never links anyone).

Everything is derived from ``--seed`` and the customer's number, event ids included, so
loading again stores no new event; a larger ``--customers`` only adds customers. Customer 0
is always John Smith (``urn:email:john.smith@apple.com``, customer id 42, order ``X01``),
the person the Browser guide and the docs use.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import quote

import typer

from converge_graph.cli.common import console, opened
from converge_graph.core.cypher import browser_edit_url, load_library
from converge_graph.core.trust import sign
from converge_graph.service import Service, Write

JOHN_EMAIL = "urn:email:john.smith@apple.com"
JOHN_CUSTOMER_ID = "urn:customer_id:42"
JOHN_ORDER = "X01"
SOURCES = {"web": "demo-web", "webhook": "demo-webhook"}
SHOP = "https://www.northwind-outfitters.com"
CHECKOUT = "https://checkout.northwind-pay.com"  # another domain: another cookie
PLACEHOLDER_EMAIL = "test@test.com"
BATCH = 500  # the API's batch limit; fewer, larger transactions load fastest
HOUSEHOLD_EVERY = 30  # customers 14 and 15, 44 and 45, … share a family tablet

FIRST = ("Olivia Liam Emma Noah Ava Mateo Sofia Lucas Mia Ethan Amelia Leo Isabella James "
         "Chloe Arjun Hana Kenji Zoe Omar Layla Felix Nora Hugo Elena Tomas Ingrid Malik "
         "Priya Diego Aisha Jonas Clara Samuel Yara Luca Freya Kofi Marta Daniel").split()
LAST = ("Garcia Müller Johnson Nguyen Rossi Kowalski Silva Okafor Jensen Tanaka Dubois Patel "
        "Andersson Novak Moreau Kim Schmidt Haddad Costa Walsh Becker Ivanova Lopez Fischer "
        "Brown Sato Nielsen Romano Mensah Wright").split()
DOMAINS = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com", "proton.me", "gmx.de")
PRODUCTS = (("NW-1042", "Trail Runner 2", 99.5, "shoes"), ("NW-2210", "Merino Hoodie", 79.0,
            "apparel"), ("NW-3105", "Rain Shell", 149.0, "apparel"), ("NW-4001", "Day Pack 22L",
            64.0, "bags"), ("NW-5120", "Wool Socks (3)", 24.0, "accessories"), ("NW-6300",
            "Headlamp", 39.0, "gear"))
DEVICES = ("Mac / Safari", "Windows / Chrome", "iPhone / Safari", "Android / Chrome",
           "iPad / Safari", "Linux / Firefox")
CHANNELS = ("google", "instagram", "newsletter", "direct", "partner-blog")


@dataclass
class Planned:
    """One write of the story, before it is addressed to a datasource."""

    channel: str  # "web": the browser snippet; "webhook": the shop's backend
    method: str
    timestamp: datetime
    event_name: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    profile_properties: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None
    aliases: list[str] = field(default_factory=list)
    cookie_id: str | None = None
    sequence: tuple[int, int] = (0, 0)  # (customer, step): a stable tie-break when sorting


class Story:
    """One customer's writes in time order, with deterministic event ids."""

    def __init__(self, number: int, prefix: str, rng: random.Random, start: datetime) -> None:
        self.number, self.prefix, self.rng, self.t = number, prefix, rng, start
        self.writes: list[Planned] = []

    def later(self, low: float, high: float) -> None:
        self.t += timedelta(minutes=self.rng.uniform(low, high))

    def cookie(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add(self, channel: str, method: str, *, event_id: str | None = None, **fields: Any) -> None:
        step = len(self.writes) + 1
        if method != "set" and event_id is None:
            event_id = f"{self.prefix}-e{step:02d}"
        self.writes.append(Planned(channel, method, self.t, event_id=event_id,
                                   sequence=(self.number, step), **fields))

    def browse(self, cookie: str, device: str, pages: int, source: str | None = None) -> None:
        landing = {"url": f"{SHOP}/", "title": "Northwind Outfitters", "device": device}
        if source:
            landing |= {"utm_source": source, "url": f"{SHOP}/?utm_source={source}"}
        self.add("web", "track", event_name="Viewed Page", properties=landing, cookie_id=cookie)
        for _ in range(pages):
            self.later(0.5, 4)
            sku, name, price, category = self.rng.choice(PRODUCTS)
            self.add("web", "track", event_name="Viewed Product", cookie_id=cookie, properties={
                "sku": sku, "name": name, "price": price, "category": category,
                "url": f"{SHOP}/p/{sku.lower()}", "device": device})

    def identify(self, cookie: str, event_name: str, aliases: list[str], person: dict[str, str],
                 **properties: Any) -> None:
        self.later(0.5, 3)
        self.add("web", "track", event_name=event_name, properties=properties,
                 profile_properties=person, aliases=aliases, cookie_id=cookie)

    def order(self, cookie: str, order_id: str, aliases: list[str], person: dict[str, str],
              server_first: bool = False) -> None:
        """Cart on the shop, checkout on the payment domain, the order from both sides."""
        sku, name, price, _ = self.rng.choice(PRODUCTS)
        quantity = self.rng.choice((1, 1, 1, 2))
        total = round(price * quantity + 4.9, 2)
        token = f"urn:checkout:{self.rng.getrandbits(64):016x}"
        self.later(0.5, 2)
        self.add("web", "track", event_name="Added To Cart", cookie_id=cookie,
                 properties={"sku": sku, "name": name, "price": price, "quantity": quantity})
        self.later(0.5, 2)
        self.add("web", "set", aliases=[token], cookie_id=cookie)
        paying = self.cookie()
        self.later(0.2, 1)
        self.add("web", "set", aliases=[token], cookie_id=paying)
        self.add("web", "track", event_name="Viewed Page", cookie_id=paying,
                 properties={"url": f"{CHECKOUT}/pay", "title": "Secure checkout"})
        self.later(1, 5)
        details = {"order_id": order_id, "total": total, "currency": "USD",
                   "items": [{"sku": sku, "name": name, "price": price, "quantity": quantity}]}
        browser = {"channel": "web", "method": "forward", "event_name": "Placed Order",
                   "properties": details, "cookie_id": paying, "event_id": order_id}
        server = {"channel": "webhook", "method": "track", "event_name": "Placed Order",
                  "properties": details, "profile_properties": person,
                  "aliases": [*aliases, token], "event_id": order_id}
        for sender in (server, browser) if server_first else (browser, server):
            self.add(**sender)
            self.t += timedelta(seconds=self.rng.uniform(1, 6))
        self.t += timedelta(days=self.rng.uniform(0.5, 2))
        self.add("webhook", "track", event_name="Order Shipped", aliases=[*aliases, token],
                 properties={"order_id": order_id, "carrier": self.rng.choice(("UPS", "DHL"))})


def john(anchor: datetime) -> list[Planned]:
    """John Smith: a laptop and a phone, newsletter, login as customer 42, order X01."""
    s = Story(0, "demo-john", random.Random("converge-demo:john"), anchor - timedelta(days=5))
    laptop, phone = s.cookie(), s.cookie()
    person = {"$email": "john.smith@apple.com", "$first_name": "John", "$last_name": "Smith"}
    ids = [JOHN_EMAIL, JOHN_CUSTOMER_ID]
    s.browse(laptop, "Mac / Safari", 2, source="google")
    s.identify(laptop, "Subscribed To Newsletter", [JOHN_EMAIL], person, list="weekly")
    s.t = anchor - timedelta(days=3, hours=4)
    s.browse(phone, "iPhone / Safari", 1, source="newsletter")
    s.identify(phone, "Logged In", ids, person)
    s.order(phone, JOHN_ORDER, ids, person)
    s.t = anchor - timedelta(hours=20)
    s.identify(laptop, "Logged In", ids, person)
    return s.writes


def customer(number: int, seed: int, anchor: datetime, taken: set[str]) -> list[Planned]:
    """Customer ``number`` (≥ 1) of data set ``seed``: the same writes on every run."""
    rng = random.Random(f"converge-demo:{seed}:{number}")
    s = Story(number, f"demo{seed}-c{number:04d}", rng,
              anchor - timedelta(days=rng.uniform(0.5, 24)))
    first, last = rng.choice(FIRST), rng.choice(LAST)
    local = rng.choice((f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[:3]}",
                        f"{first}.{last}{rng.randint(1, 99)}")).lower().replace("ü", "ue")
    if local in taken:
        local = f"{local}.{number}"
    taken.add(local)
    email = f"{local}@{rng.choice(DOMAINS)}"
    in_household = number % HOUSEHOLD_EVERY in (14, 15)
    placeholder = number % 37 == 11
    person = {"$email": PLACEHOLDER_EMAIL if placeholder else email,
              "$first_name": first, "$last_name": last}
    ids = [f"urn:email:{person['$email']}"]
    registered = in_household or (not placeholder and rng.random() < 0.55)
    if registered:
        ids.append(f"urn:customer_id:{100_000 * (seed + 1) + number}")
    devices = [(s.cookie(), d) for d in rng.sample(DEVICES, rng.choice((1, 1, 2, 2, 3)))]
    if in_household:  # the household's tablet: the same cookie for both people
        shared = random.Random(f"converge-demo:{seed}:household:{number // HOUSEHOLD_EVERY}")
        devices.append((str(uuid.UUID(int=shared.getrandbits(128), version=4)), "iPad / Safari"))
        s.t = anchor - timedelta(days=9 - (number % HOUSEHOLD_EVERY - 14), hours=3)

    for index, (cookie, device) in enumerate(devices):
        if index:
            s.t += timedelta(days=rng.uniform(0.2, 1.5))
        s.browse(cookie, device, rng.randint(0, 5), source=rng.choice(CHANNELS))
        if index == 0 and (placeholder or rng.random() < 0.45):
            s.identify(cookie, "Subscribed To Newsletter", ids[:1], person, list="weekly")
        if registered and (index == 0 or rng.random() < 0.8 or in_household):
            s.identify(cookie, "Logged In" if index else "Created Account", ids, person)
    if rng.random() < (0.6 if registered else 0.3):
        order_id = f"NW{seed}-{number:05d}"
        s.order(devices[-1][0], order_id, ids, person, server_first=rng.random() < 0.3)
    overrun = max(w.timestamp for w in s.writes) - (anchor - timedelta(minutes=1))
    for w in s.writes:  # a story that would end in the future happened a little earlier
        w.timestamp -= max(overrun, timedelta(0))
    return s.writes


def generate(customers: int, seed: int, anchor: datetime) -> list[Planned]:
    """John plus ``customers - 1`` others, every write in time order."""
    taken = {"john.smith"}
    writes = john(anchor)
    for number in range(1, customers):
        writes.extend(customer(number, seed, anchor, taken))
    return sorted(writes, key=lambda w: (w.timestamp, w.sequence))


def demo_sources(service: Service) -> dict[str, dict]:
    """The demo datasources by channel, reused by name (``make run`` creates them too)."""
    existing = service.list_datasources()
    found = {}
    for channel, name in SOURCES.items():
        same = [s for s in existing if s["name"] == name and s["kind"] == channel]
        found[channel] = same[0] if same else service.add_source(name, channel)
    return found


def signed(source: dict, aliases: list[str]) -> dict[str, str]:
    """What the shop's backend would put in a logged-in page: a signature for each
    customer id (docs/security.md#signing-strong-ids-from-the-browser). A demo source
    reused from an earlier run has no secret at hand: its browser customer ids are dropped."""
    secret = source.get("signing_secret")
    if source["kind"] != "web" or not secret:
        return {}
    return {urn: sign(secret, urn) for urn in aliases if urn.startswith("urn:customer_id:")}


def load(service: Service, customers: int, seed: int, anchor: datetime) -> dict[str, Any]:
    """Ingest the data set in batches; counts for the summary."""
    sources = demo_sources(service)
    planned = generate(customers, seed, anchor)
    counts: Counter[str] = Counter()
    ignored: Counter[str] = Counter()
    for start in range(0, len(planned), BATCH):
        chunk = planned[start:start + BATCH]
        results = service.ingest_batch([
            Write(source=sources[p.channel], method=p.method, event_name=p.event_name,
                  properties=p.properties, profile_properties=p.profile_properties,
                  event_id=p.event_id, aliases=p.aliases, timestamp=p.timestamp,
                  cookie_id=p.cookie_id, signatures=signed(sources[p.channel], p.aliases))
            for p in chunk])
        for p, result in zip(chunk, results, strict=True):
            counts["writes"] += 1
            if p.method != "set":
                counts["deduplicated" if result["deduplicated"] else "stored"] += 1
            for item in result["ignored_aliases"]:
                ignored["placeholder" if item["reason"].startswith("blocked") else "refused"] += 1
    return {"sources": sources, "counts": counts, "ignored": ignored, "customers": customers,
            "batches": -(-len(planned) // BATCH)}


def summary(outcome: dict[str, Any], service: Service, seed: int, seconds: float) -> str:
    """What was loaded, then where to look first (rich markup)."""
    c, ignored, settings = outcome["counts"], outcome["ignored"], service.settings
    base = settings.public_url.rstrip("/") or f"http://{settings.api_host}:{settings.api_port}"
    names = ", ".join(f"{s['name']} ({s['source_id']})" for s in outcome["sources"].values())
    person = load_library(settings.cypher_dir / "queries")["browser_person"]
    link = browser_edit_url(settings.browser_url, person.inline({"urn": JOHN_EMAIL}))
    return f"""[bold green]demo data loaded[/bold green] (seed {seed}): \
{outcome['customers']} customers, {c['writes']} writes in {outcome['batches']} batches, \
{seconds:.1f} s
  events           {c['stored']} stored, {c['deduplicated']} deduplicated (an order sent by \
browser and server is stored once; everything is, when loaded again)
  ignored aliases  {ignored['placeholder']} placeholder emails, {ignored['refused']} refused by \
merge protection (family tablets)
  datasources      {names}

[bold]What to look at first[/bold]
  1. John Smith: two devices, a checkout on another domain, order {JOHN_ORDER} stored once
       converge-graph cluster --alias {JOHN_EMAIL}
       curl -H "Authorization: Bearer $READ_KEY" \\
         '{base}/v1/clusters/lookup?alias={quote(JOHN_EMAIL, safe='')}'
  2. Neo4j Browser ({settings.browser_url}): the guide opens on connect, or run
       :play {base}/browser/guide.html
     John as a graph (opens Browser with the query in the editor):
       {link}
  3. The query library: converge-graph query --list
       converge-graph query conversion_paths --param limit=5
       converge-graph query largest_clusters
"""


demo_app = typer.Typer(help="A sample data set for a first look.", no_args_is_help=True)


@demo_app.command("load")
def load_command(
    customers: Annotated[int, typer.Option(min=1, max=5000, help="How many customers")] = 300,
    seed: Annotated[int, typer.Option(min=0, help="Another seed, other customers")] = 1,
) -> None:
    """Load realistic customers (John Smith included); loading again stores nothing new."""
    anchor = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    began = time.monotonic()
    with opened() as service:
        outcome = load(service, customers, seed, anchor)
        text = summary(outcome, service, seed, time.monotonic() - began)
    console.print(text, soft_wrap=True, highlight=False)
