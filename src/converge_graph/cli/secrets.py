"""`converge-graph sources secret`: a web datasource's signing secret, shown and rotated
(docs/security.md#rotating-the-signing-secret)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Annotated

import typer

from converge_graph.cli.common import console, opened

UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}
DURATION_RE = re.compile(r"(\d+)([dhms])")


def parse_grace(text: str) -> timedelta:
    """``24h``, ``90m``, ``1h30m``, ``7d``, ``0``: a grace window."""
    spelled = text.strip().lower()
    if spelled == "0":
        return timedelta(0)
    parts = DURATION_RE.findall(spelled)
    if not parts or "".join(n + u for n, u in parts) != spelled:
        raise typer.BadParameter(
            f"{text!r} is no duration: write it like 24h, 90m, 1h30m, 7d, or 0 to stop the "
            "old secret at once", param_hint="--grace")
    return timedelta(**{UNITS[u]: int(n) for n, u in parts})


def when(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def register(sources_app: typer.Typer) -> None:
    sources_app.command("secret")(sources_secret)


def sources_secret(
    name: Annotated[str, typer.Argument(help="The web datasource's name (or source_id)")],
    rotate: Annotated[bool, typer.Option(
        "--rotate", help="Make a new signing secret and print it (shown once)")] = False,
    grace: Annotated[str | None, typer.Option(
        help="With --rotate: how long the old secret keeps signing while the shop's servers "
             "switch, e.g. 24h, 90m, 7d (at most 30d); 0 stops it at once, as after a "
             "leak  [default: 24h]")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Show whether a web datasource has a signing secret, or rotate it. The secret itself
    is never shown again; --rotate makes a new one (a source made before signing existed
    gets its first)."""
    if grace is not None and not rotate:
        raise typer.BadParameter("--grace goes with --rotate", param_hint="--grace")
    window = parse_grace(grace) if grace is not None else None
    with opened() as service:
        if not rotate:
            status = service.signing_secret_status(name)
        elif window is None:
            rotated = service.rotate_signing_secret(name)
        else:
            rotated = service.rotate_signing_secret(name, window)
    if not rotate:
        show_status(status, as_json)
    else:
        show_rotated(rotated, as_json)


def show_status(status: dict, as_json: bool) -> None:
    view = {**status, "rotated_at": when(status["rotated_at"]),
            "previous_signs_until": when(status["previous_signs_until"])}
    if as_json:
        typer.echo(json.dumps(view))
        return
    who = f"{status['name']} ({status['source_id']})"
    if not status["has_signing_secret"]:
        console.print(f"{who} has no signing secret: strong ids its pages send (customer_id, "
                      "user_id) are dropped as unsigned. Make one with `converge-graph "
                      f"sources secret {status['name']} --rotate`.", soft_wrap=True)
        return
    since = f", rotated {view['rotated_at']}" if view["rotated_at"] else ""
    console.print(f"{who} has a signing secret{since}.", soft_wrap=True)
    if view["previous_signs_until"]:
        console.print(f"The secret it replaced still signs until {view['previous_signs_until']}.",
                      soft_wrap=True)


def show_rotated(rotated: dict, as_json: bool) -> None:
    view = {key: when(value) if isinstance(value, datetime) else value
            for key, value in rotated.items()}
    if as_json:
        typer.echo(json.dumps(view))
        return
    console.print(f"[bold]signing_secret[/bold]: {rotated['signing_secret']}", soft_wrap=True,
                  highlight=False)
    console.print(f"New signing secret of {rotated['name']} ({rotated['source_id']}), shown "
                  "once: put it on the shop's servers, which sign strong ids for its pages.",
                  soft_wrap=True, highlight=False)
    if not rotated["had_signing_secret"]:
        console.print("It is the source's first: until now its strong ids were dropped.",
                      soft_wrap=True)
    elif view["previous_signs_until"]:
        console.print(f"The old secret keeps signing until {view['previous_signs_until']}; "
                      "after that its signatures count for nothing.", soft_wrap=True,
                      highlight=False)
    else:
        console.print("The old secret stopped signing now (--grace 0).", soft_wrap=True)
    if view["ended_grace_of_older"]:
        console.print(f"The secret before it, due to sign until {view['ended_grace_of_older']}, "
                      "stopped now: only one old secret is kept.", soft_wrap=True,
                      highlight=False)
    console.print("Running APIs accept the new secret within 30 s.", soft_wrap=True)
