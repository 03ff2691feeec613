"""The command line: serve, schema, sources, keys, bootstrap, verify, cluster,
destinations, deliveries, deliver."""

from __future__ import annotations

import json
import shlex
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.tree import Tree

from converge_graph.cli import destinations as cli_destinations
from converge_graph.cli import merges as cli_merges
from converge_graph.cli import secrets as cli_secrets
from converge_graph.cli.common import console, opened
from converge_graph.cli.demo import demo_app
from converge_graph.cli.importer import import_command
from converge_graph.cli.query import query_app
from converge_graph.settings import Settings

app = typer.Typer(help="converge-graph: identity resolution on Neo4j.", no_args_is_help=True)
schema_app = typer.Typer(help="The Neo4j schema.", no_args_is_help=True)
sources_app = typer.Typer(help="Datasources and their tokens.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys for reads and admin routes.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
app.add_typer(sources_app, name="sources")
app.add_typer(keys_app, name="keys")
cli_merges.register(app)
cli_secrets.register(sources_app)
cli_destinations.register(app)
app.command("import")(import_command)
app.add_typer(query_app, name="query")
app.add_typer(demo_app, name="demo")


class Kind(StrEnum):
    web = "web"
    webhook = "webhook"


class Scope(StrEnum):
    read = "read"
    admin = "admin"


def base_url(settings: Settings) -> str:
    return settings.public_url.rstrip("/") or f"http://{settings.api_host}:{settings.api_port}"


def snippet(base: str, token: str) -> str:
    return (
        "<script>window.cvg||(cvg=function(){cvg.process?cvg.process.apply(cvg,arguments)"
        ":cvg.queue.push(arguments)},cvg.queue=[]);</script>\n"
        f'<script async src="{base}/v1/cvg.js?token={token}"></script>'
    )


def source_view(source: dict, base: str) -> dict:
    view = {"source_id": source["source_id"], "name": source["name"], "kind": source["kind"],
            "token": source["token"]}
    if source["kind"] == "web":
        view["signing_secret"] = source["signing_secret"]
        view["accept_unsigned"] = source.get("accept_unsigned") or []
        view["origins"] = source.get("origins") or []
        view["collect_url"] = f"{base}/v1/collect/{source['token']}"
        view["snippet"] = snippet(base, source["token"])
    else:
        view["postback_url"] = f"{base}/v1/webhook/{source['token']}"
    return view


def server_limits(settings: Settings) -> dict[str, object]:
    """uvicorn's guards against idle clients and floods of connections. uvicorn has no
    timeout for a slowly sent request: put a proxy in front for that
    (docs/security.md#deploying-behind-a-proxy)."""
    return {
        "timeout_keep_alive": settings.api_keep_alive_seconds,
        "limit_concurrency": settings.api_limit_concurrency,
        "timeout_graceful_shutdown": 30,
    }


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address (API_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (API_PORT)")] = None,
    workers: Annotated[int | None, typer.Option(
        min=1, help="Processes (API_WORKERS); the API is stateless, each has its own driver "
                    "and group commit")] = None,
) -> None:
    """Run the HTTP API."""
    import uvicorn

    from converge_graph.api import create_app

    settings = Settings()
    workers = workers or settings.api_workers
    where = {"host": host or settings.api_host, "port": port or settings.api_port,
             "log_level": "info", **server_limits(settings)}
    if workers > 1:  # uvicorn starts each worker from the import string
        uvicorn.run("converge_graph.api:create_app", factory=True, workers=workers, **where)
    else:
        uvicorn.run(create_app(settings), **where)


@schema_app.command("apply")
def schema_apply() -> None:
    """Create every constraint and index (idempotent)."""
    with opened() as service:
        count = service.apply_schema()
        console.print(f"schema applied: {count} statements")


@sources_app.command("add")
def sources_add(
    name: str,
    kind: Annotated[Kind, typer.Option(help="web (browser SDK) or webhook (server-side)")],
    origin: Annotated[list[str] | None, typer.Option(
        help="web: a site allowed to call, scheme://host[:port] (repeatable); "
             "none: any site")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
    accept_unsigned: Annotated[list[str] | None, typer.Option(
        "--accept-unsigned", help="web only: accept this strong alias type (e.g. user_id) "
        "unsigned from the browser, as a claim — a hostile page can then send anyone's; "
        "see docs/security.md")] = None,
) -> None:
    """Create a datasource and print its token and, for web, its signing secret (both
    shown once) and ready URLs."""
    if accept_unsigned and kind.value != "web":
        raise typer.BadParameter("--accept-unsigned applies to web sources only")
    with opened() as service:
        view = source_view(service.add_source(name, kind.value, origin or [], accept_unsigned),
                           base_url(service.settings))
    if as_json:
        typer.echo(json.dumps(view))
        return
    for key, value in view.items():
        console.print(f"[bold]{key}[/bold]: {value}", soft_wrap=True)


@sources_app.command("list")
def sources_list() -> None:
    """List datasources (tokens are never shown again: only their hashes are stored)."""
    with opened() as service:
        for s in service.list_datasources():
            sites = f"  origins={','.join(s['origins']) or 'any'}" if s["kind"] == "web" else ""
            console.print(f"{s['source_id']}  {s['kind']:8} {s['name']}  events={s['events']}"
                          + sites, soft_wrap=True)


@sources_app.command("origins")
def sources_origins(
    name: Annotated[str, typer.Argument(help="The web datasource's name (or source_id)")],
    add: Annotated[list[str] | None, typer.Option(
        help="Allow this site, scheme://host[:port] (repeatable)")] = None,
    remove: Annotated[list[str] | None, typer.Option(
        help="Stop allowing this site (repeatable)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Edit the sites a web datasource accepts calls from and print the new list (an empty
    list accepts any site). Running APIs see the change within 30 s."""
    with opened() as service:
        row = service.edit_origins(name, add or [], remove or [])
    if as_json:
        typer.echo(json.dumps(row))
        return
    listed = row["origins"]
    console.print(f"{row['name']} ({row['source_id']}) accepts calls from "
                  + (", ".join(listed) if listed else "any origin"), soft_wrap=True)


@keys_app.command("add")
def keys_add(
    scope: Annotated[Scope, typer.Option(help="read: the read API; admin: destructive routes")],
    name: Annotated[str, typer.Option(help="A label to recognise the key by")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object")] = False,
) -> None:
    """Mint an API key (shown once; only its hash is stored)."""
    with opened() as service:
        minted = service.add_key(scope.value, name)
    typer.echo(json.dumps(minted) if as_json else f"{minted['scope']} key: {minted['key']}")


@app.command()
def bootstrap(
    state: Annotated[Path | None, typer.Option(
        help="Where the demo credentials are kept [default: demo-credentials.json in "
             "CVG_LOCAL_NEO4J_HOME, beside the make-run server]")] = None,
    env: Annotated[bool, typer.Option(
        "--env", help="Print only `export B=… HOOK=… WEB=… READ=… ADMIN=…` for a shell: "
                      'eval "$(converge-graph bootstrap --env)"')] = False,
) -> None:
    """Create a demo web source, webhook source, read and admin key once; print them every
    time."""
    with opened() as service:
        base = base_url(service.settings)
        state = state or service.settings.local_neo4j_home / "demo-credentials.json"
        creds = json.loads(state.read_text()) if state.is_file() else None
        if creds and not service.key_exists(creds["read_key"]):
            creds = None  # the database was wiped: mint new ones
        if creds is None:
            web = service.add_source("demo-web", "web")
            hook = service.add_source("demo-webhook", "webhook")
            creds = {"web": source_view(web, base), "webhook": source_view(hook, base),
                     "read_key": service.add_key("read", "demo")["key"],
                     "admin_key": service.add_key("admin", "demo")["key"]}
            state.parent.mkdir(parents=True, exist_ok=True)
            state.write_text(json.dumps(creds, indent=2))
            state.chmod(0o600)
    hook_url, web = creds["webhook"]["postback_url"], creds["web"]
    if env:  # the names README.md's examples use
        names = {"B": base, "HOOK": creds["webhook"]["token"], "WEB": web["token"],
                 "READ": creds["read_key"], "ADMIN": creds["admin_key"]}
        typer.echo("export " + " ".join(f"{k}={shlex.quote(v)}" for k, v in names.items()))
        return
    console.print(f"""
[bold green]converge-graph is ready[/bold green]
  API docs        {base}/docs
  demo shop       {base}/demo?token={web['token']}  ("my identity" asks for the read key)
  webhook token   {creds['webhook']['token']}
  web token       {web['token']}
  read key        {creds['read_key']}
  admin key       {creds['admin_key']}
  in a shell      eval "$(converge-graph bootstrap --env)"  (sets B, HOOK, WEB, READ, ADMIN)

Post the seed's server-side example:
  curl -s -X POST {hook_url} -H 'Content-Type: application/json' \\
    -d '{SEED_EXAMPLE}'
Read the person back:
  curl -s -H 'Authorization: Bearer {creds['read_key']}' \\
    '{base}/v1/clusters/lookup?alias=urn:email:john.smith@apple.com'
""", soft_wrap=True, highlight=False)


SEED_EXAMPLE = json.dumps({
    "event_name": "Subscribed To Newsletter", "properties": {}, "profile_properties": {},
    "aliases": ["urn:email:john.smith@apple.com"],
})


@app.command()
def verify() -> None:
    """Recompute connected components over SAME_AS; exit 1 if any cluster_id disagrees."""
    with opened() as service:
        bad, profile_count, link_count = service.verify()
    if bad:
        for row in bad[:50]:
            console.print(f"[red]mismatch[/red] {row['profile_id']} has {row['cluster_id']}; "
                          f"its component carries {row['component_cluster_ids']}")
        console.print(f"[red]{len(bad)} profiles disagree[/red] "
                      f"(of {profile_count} profiles, {link_count} links)")
        raise typer.Exit(1)
    console.print(f"ok: {profile_count} profiles, {link_count} SAME_AS links, "
                  "every cluster_id matches its connected component")


@app.command()
def cluster(alias: Annotated[str, typer.Option(help="Any alias of the person, urn:<type>:<value>")],
            as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Print the cluster holding an alias as a readable tree."""
    with opened() as service:
        body = service.cluster(service.lookup(alias))
    if as_json:
        typer.echo(json.dumps(body, default=str, indent=2))
        return
    tree = Tree(f"[bold]cluster {body['cluster_id']}[/bold]  events={body['event_count']}  "
                f"first={body['first_seen']}  last={body['last_seen']}")
    for p in body["profiles"]:
        branch = tree.add(f"[cyan]{p['profile_id']}[/cyan]")
        for urn in p["aliases"]:
            branch.add(f"[green]{urn}[/green]")
        for key, value in p["properties"].items():
            branch.add(f"{key} = {value!r}")
    links = tree.add("[bold]SAME_AS[/bold]")
    for link in body["links"]:
        links.add(f"{link['from']} → {link['to']}  {link['reason']}  via={link['via']}  "
                  f"event={link['event_id']}")
    merged = tree.add("[bold]merged properties[/bold]")
    for key, value in body["merged_properties"].items():
        merged.add(f"{key} = {value!r}")
    console.print(tree)


if __name__ == "__main__":
    app()
