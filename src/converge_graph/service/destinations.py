"""Destinations as data: where enriched events and identity changes go
(docs/destinations.md). Shared by the CLI and the admin API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from converge_graph.core.ids import new_id
from converge_graph.core.payloads import EVENT_METHODS, FORMATS, PURPOSES
from converge_graph.core.webhooks import new_signing_secret
from converge_graph.errors import InvalidInput, NotFound
from converge_graph.service.sources import utcnow

if TYPE_CHECKING:
    from converge_graph.store.graph import Graph

STATUSES = ("pending", "failed", "delivered", "dead", "skipped")


def _names(values: list[str] | None, field: str) -> list[str] | None:
    """A filter list without blanks or repeats; None or empty means every value."""
    if not values:
        return None
    cleaned = sorted({v.strip() for v in values if v.strip()})
    if not cleaned:
        raise InvalidInput(f"{field} names no value; leave it out to match all", field=field)
    return cleaned


def check_url(url: str) -> str:
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"url must be an absolute http(s) URL, e.g. "
                           f"https://hooks.example.com/cvg (got {url!r})", field="url")
    return url.strip()


class Destinations:
    """Destination and delivery use cases; mixed into :class:`~converge_graph.service.Service`."""

    graph: Graph

    def add_destination(
        self, name: str, url: str, *, events: list[str] | None = None,
        methods: list[str] | None = None, format: str = "webhook",
        identity_events: bool = False, purpose: str = "marketing",
    ) -> dict[str, Any]:
        """Create a destination; the answer carries its signing secret, shown only here."""
        name = name.strip()
        if not name:
            raise InvalidInput("name must not be empty", field="name")
        if format not in FORMATS:
            raise InvalidInput(f"format must be one of {', '.join(FORMATS)}", field="format")
        if purpose not in PURPOSES:
            raise InvalidInput(f"purpose must be one of {', '.join(PURPOSES)}",
                               field="purpose")
        methods = _names(methods, "methods")
        if methods and not set(methods) <= set(EVENT_METHODS):
            raise InvalidInput(f"methods may name {' and '.join(EVENT_METHODS)} "
                               "(the methods that store events)", field="methods")
        if identity_events and format == "meta-capi":
            raise InvalidInput("the Meta Conversions API takes events only: use format "
                               "webhook for identity events", field="identity_events")
        if any(d["destination"]["name"] == name for d in self.graph.list_destinations()):
            raise InvalidInput(f"a destination named {name!r} exists; remove it first or "
                               "choose another name", field="name")
        secret = new_signing_secret()
        created = self.graph.create_destination(
            destination_id=new_id("dst"), name=name, url=check_url(url),
            events=_names(events, "events"), methods=methods, format=format,
            identity_events=identity_events, purpose=purpose, secret=secret, now=utcnow())
        return {**created, "secret": secret}

    def list_destinations(self) -> list[dict[str, Any]]:
        return [{**r["destination"], "deliveries": {c["status"]: c["n"] for c in r["counts"]}}
                for r in self.graph.list_destinations()]

    def enable_destination(self, name: str, enabled: bool) -> None:
        if not self.graph.set_destination_enabled(name, enabled):
            raise NotFound(f"no destination named {name!r}", field="name")

    def remove_destination(self, name: str) -> dict[str, Any]:
        removed = self.graph.remove_destination(name)
        if removed is None:
            raise NotFound(f"no destination named {name!r}", field="name")
        return removed

    def deliveries(self, destination: str | None = None, status: str | None = None,
                   limit: int = 100) -> list[dict[str, Any]]:
        if status is not None and status not in STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(STATUSES)}", field="status")
        return [{**r["delivery"], "destination": r["destination"]}
                for r in self.graph.list_deliveries(destination, status, limit)]

    def retry_deliveries(self, destination: str | None = None, status: str = "dead",
                         ids: list[str] | None = None) -> int:
        """Send dead (or failed) deliveries again now, under their original webhook-id."""
        if status not in ("dead", "failed"):
            raise InvalidInput("retry takes dead or failed deliveries", field="status")
        return self.graph.retry_deliveries(destination=destination, status=status,
                                           ids=ids or None, now=utcnow())

    def delivery_counts(self) -> dict[str, int]:
        return self.graph.delivery_counts()
