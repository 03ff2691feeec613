"""CLI equivalents of the merge routes: explain, unmerge, link, erase, conflicts, policy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from converge_graph.cli.common import console, opened
from converge_graph.core.policy import Policy
from converge_graph.service.merges import Merges

policy_app = typer.Typer(help="The matching policy.", no_args_is_help=True)


def _print(body: object, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(body, default=str, indent=2))
    else:
        console.print_json(json.dumps(body, default=str))


def explain(
    cluster_id: str,
    from_profile: Annotated[str, typer.Option("--from", help="profile_id")],
    to_profile: Annotated[str, typer.Option("--to", help="profile_id")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Show the chain of SAME_AS links joining two profiles, with the evidence of each."""
    with opened() as service:
        body = Merges(service).explain(cluster_id, from_profile, to_profile)
    if as_json:
        _print(body, True)
        return
    for step in body["path"]:
        console.print(f"{step['from']} → {step['to']}  {step['reason']}  via={step['via']}  "
                      f"event={step['event_id']} from {step['datasource']} at {step['created_at']}")
    for why in body.get("kept_apart", []):
        what = ("gave the login its session only" if why["kind"] == "first_login"
                else "changed hands")
        console.print(f"not joined: {why['alias']} {what} at {why['created_at']} "
                      f"(event {why['event_id']}): {why['reason']}")


def unmerge(
    alias: Annotated[str | None, typer.Option(help="Remove this alias as evidence")] = None,
    event_id: Annotated[str | None, typer.Option(help="Remove this shared event")] = None,
) -> None:
    """Remove evidence; the clusters it joined split into their true components."""
    with opened() as service:
        _print(Merges(service).unmerge(alias=alias, event_id=event_id), False)


def link(
    from_profile: Annotated[str, typer.Option("--from")],
    to_profile: Annotated[str, typer.Option("--to")],
    reason: Annotated[str, typer.Option(help="Why the two are one person")],
) -> None:
    """Join two profiles' clusters by hand (reason: manual)."""
    with opened() as service:
        _print(Merges(service).link(from_profile, to_profile, reason), False)


def erase(
    cluster_id: str,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation")] = False,
) -> None:
    """Erase a person: profiles, events, and aliases no one else holds."""
    if not yes:
        typer.confirm(f"Erase cluster {cluster_id} and everything it holds?", abort=True)
    with opened() as service:
        _print(Merges(service).erase(cluster_id), False)


def conflicts(limit: Annotated[int, typer.Option(min=1, max=1000)] = 50) -> None:
    """Refused merges and quarantined aliases, newest first."""
    with opened() as service:
        found = service.list_conflicts(limit)
    table = Table("when", "kind", "alias", "reason", "event", "profile")
    for c in found:
        table.add_row(str(c["created_at"]), c["kind"], c["alias"], c["reason"],
                      str(c["event_id"]), str(c["profile_id"]))
    console.print(table)


@policy_app.command("check")
def policy_check(
    file: Annotated[Path | None, typer.Option(help="Policy file (TOML or JSON) to try")] = None,
) -> None:
    """Report the existing clusters a policy would split; changes nothing."""
    policy = Policy.load(file)
    with opened() as service:
        rows = service.clusters_over(policy.unlimited_types, 2)
        shared = (service.clusters_joined_by_device(policy.device_types, policy.handover_types)
                  if policy.handover_types else [])
    over = [r for r in rows if (limit := policy.limit(r["type"])) is not None
            and r["values"] > limit]
    # Moves events, never joins or splits anyone: nothing stored to check, but say it.
    console.print(f"session stitching: {policy.session_minutes} minutes" if
                  policy.session_minutes else "session stitching: off", highlight=False)
    # Shared devices likewise only decide later anonymous writes (docs/identity.md).
    own = policy.shared_device_own_profile and policy.session_minutes
    console.print(f"shared devices: {'own profile after a session' if own else 'off'}; "
                  f"hand-off tokens: {', '.join(policy.handoff_types) or 'none'}",
                  highlight=False)
    first = policy.first_login_session_only and policy.session_minutes
    what = "takes its session only" if first else "joins the device and its whole history"
    console.print(f"a known person's first login on an anonymous device: {what}",
                  highlight=False)
    if not over and not shared:
        console.print("no existing cluster breaks this policy")
        return
    if over:
        table = Table("cluster_id", "alias type", "values", "limit")
        for r in over:
            table.add_row(r["cluster_id"], r["type"], str(r["values"]),
                          str(policy.limit(r["type"])))
        console.print(table)
        console.print(f"{len({r['cluster_id'] for r in over})} clusters hold more values "
                      "than this policy allows")
    if shared:
        table = Table("cluster_id", "login type", "values", "device-only links")
        for r in shared:
            table.add_row(r["cluster_id"], r["type"], str(r["values"]), str(r["links"]))
        console.print(table)
        console.print(f"{len({r['cluster_id'] for r in shared})} clusters were joined only "
                      "through a shared device while holding two login identities of one "
                      "type: the device hand-over would have kept them apart")
    console.print("they are left as they are until you unmerge them")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    for command in (explain, unmerge, link, erase, conflicts):
        app.command()(command)
    app.add_typer(policy_app, name="policy")
