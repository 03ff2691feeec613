"""`destinations`, `deliveries` and `deliver`: where events go, what went, and a worker
process of its own (docs/destinations.md)."""

from __future__ import annotations

import json
import signal
import threading
from enum import StrEnum
from typing import Annotated

import typer
from rich.table import Table

from converge_graph.cli.common import console, opened
from converge_graph.service.delivery import Deliverer

destinations_app = typer.Typer(help="Destinations: where enriched events and identity "
                               "changes are sent.", no_args_is_help=True)
deliveries_app = typer.Typer(help="Deliveries: what was sent, what waits, what died.",
                             invoke_without_command=True)


class Format(StrEnum):
    webhook = "webhook"
    meta_capi = "meta-capi"


class Purpose(StrEnum):
    marketing = "marketing"
    analytics = "analytics"


class Status(StrEnum):
    pending = "pending"
    failed = "failed"
    delivered = "delivered"
    dead = "dead"
    skipped = "skipped"


def _split(text: str | None) -> list[str] | None:
    return [v.strip() for v in text.split(",") if v.strip()] if text else None


@destinations_app.command("add")
def add(
    name: str,
    url: Annotated[str, typer.Option(help="Where to POST (http or https)")],
    events: Annotated[str | None, typer.Option(
        help='Event names to send, comma-separated, e.g. "Placed Order,Started '
             'Subscription"; all if absent')] = None,
    methods: Annotated[str | None, typer.Option(
        help="Methods to send: forward, track (comma-separated); all if absent")] = None,
    format: Annotated[Format, typer.Option(help="Payload shape")] = Format.webhook,
    identity_events: Annotated[bool, typer.Option(
        "--identity-events", help="Also send identity.merged, .split and .erased")] = False,
    purpose: Annotated[Purpose, typer.Option(
        help="A person who denied this $consent purpose is not sent")] = Purpose.marketing,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Create a destination and print its signing secret (shown once)."""
    with opened() as service:
        created = service.add_destination(
            name, url, events=_split(events), methods=_split(methods), format=format.value,
            identity_events=identity_events, purpose=purpose.value)
    if as_json:
        typer.echo(json.dumps(created, default=str))
        return
    order = ("name", "destination_id", "url", "format", "purpose", "events", "methods",
             "identity_events", "enabled", "created_at", "secret")
    for key in order:
        value = created[key]
        console.print(f"[bold]{key}[/bold]: {value}", soft_wrap=True, highlight=False)
    console.print("Keep the secret: receivers verify the webhook-signature header with it.")


@destinations_app.command("list")
def list_() -> None:
    """Destinations with their filters and deliveries by status."""
    with opened() as service:
        found = service.list_destinations()
    table = Table("name", "url", "format", "purpose", "events", "methods", "identity",
                  "enabled", "deliveries")
    for d in found:
        table.add_row(d["name"], d["url"], d["format"], d["purpose"],
                      ",".join(d["events"] or ["*"]), ",".join(d["methods"] or ["*"]),
                      "yes" if d["identity_events"] else "no",
                      "yes" if d["enabled"] else "no",
                      " ".join(f"{k}={v}" for k, v in sorted(d["deliveries"].items())))
    console.print(table)


@destinations_app.command("disable")
def disable(name: str) -> None:
    """Stop recording and sending for a destination; its pending items wait."""
    with opened() as service:
        service.enable_destination(name, False)
    console.print(f"{name}: disabled")


@destinations_app.command("enable")
def enable(name: str) -> None:
    """Record and send for a destination again."""
    with opened() as service:
        service.enable_destination(name, True)
    console.print(f"{name}: enabled")


@destinations_app.command("remove")
def remove(name: str) -> None:
    """Remove a destination and every delivery recorded for it."""
    with opened() as service:
        removed = service.remove_destination(name)
    console.print(f"{name}: removed with {removed['deliveries']} deliveries")


@deliveries_app.callback()
def deliveries(
    ctx: typer.Context,
    destination: Annotated[str | None, typer.Option(help="A destination's name")] = None,
    status: Annotated[Status | None, typer.Option(help="Only this status")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Deliveries, newest first."""
    if ctx.invoked_subcommand is not None:
        return
    with opened() as service:
        found = service.deliveries(destination, status.value if status else None, limit)
    if as_json:
        typer.echo(json.dumps(found, default=str, indent=2))
        return
    table = Table("delivery (webhook-id)", "destination", "topic", "event", "status",
                  "attempts", "next attempt", "reason")
    for d in found:
        table.add_row(d["delivery_id"], d["destination"], d["topic"], d["event_id"] or "",
                      d["status"], str(d["attempts"]), str(d["next_attempt_at"] or ""),
                      d["reason"] or "")
    console.print(table)


@deliveries_app.command("retry")
def retry(
    destination: Annotated[str | None, typer.Option(help="A destination's name")] = None,
    status: Annotated[Status, typer.Option(help="dead or failed")] = Status.dead,
    ids: Annotated[list[str] | None, typer.Argument(help="Only these delivery ids")] = None,
) -> None:
    """Send dead (or failed) deliveries again now, under their original webhook-id."""
    with opened() as service:
        count = service.retry_deliveries(destination, status.value, ids)
    console.print(f"{count} deliveries put back in line")


def deliver(
    workers: Annotated[int | None, typer.Option(
        min=1, help="Worker threads (CVG_DELIVERY_WORKERS)")] = None,
    once: Annotated[bool, typer.Option(
        "--once", help="Attempt what is due now, then exit")] = False,
) -> None:
    """Run delivery workers in this process (beside or instead of those in `serve`)."""
    from converge_graph.api.observability import configure_logging

    configure_logging()
    with opened() as service:
        deliverer = Deliverer(service, workers=workers or max(service.settings.delivery_workers,
                                                              1))
        if once:
            deliverer.drain()
            deliverer.stop()
            return
        done = threading.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: done.set())
        deliverer.start()
        console.print(f"delivering with {deliverer.workers} workers (Ctrl-C stops)")
        done.wait()
        deliverer.stop()


def register(app: typer.Typer) -> None:
    app.add_typer(destinations_app, name="destinations")
    app.add_typer(deliveries_app, name="deliveries")
    app.command()(deliver)
