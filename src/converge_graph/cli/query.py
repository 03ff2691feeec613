"""``converge-graph query``: run the analyst library (``cypher/queries/``) and render rows.

The files, their headers and how they are checked: :mod:`converge_graph.core.cypher`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Mapping
from datetime import date, datetime, time
from enum import StrEnum
from typing import Annotated, Any

import typer

from converge_graph.cli.common import opened
from converge_graph.core.cypher import GraphNode, GraphPath, GraphRel, LibraryQuery, load_library
from converge_graph.errors import ConvergeError, InvalidInput
from converge_graph.settings import Settings


def _plain(value: Any) -> Any:
    """JSON-ready values: datetimes as ISO 8601 strings, nodes and paths as maps."""
    if isinstance(value, GraphNode):
        return {"labels": list(value.labels), "properties": _plain(value.properties)}
    if isinstance(value, GraphRel):
        return {"type": value.type, "start": value.start, "end": value.end,
                "properties": _plain(value.properties)}
    if isinstance(value, GraphPath):
        return {"nodes": [_plain(n) for n in value.nodes],
                "relationships": [_plain(r) for r in value.relationships]}
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _cell(value: Any) -> str:
    """One table or CSV cell: graph elements in Cypher-like shorthand, lists as JSON."""
    if value is None:
        return ""
    if isinstance(value, GraphNode):
        return f"(:{':'.join(value.labels)} {value.key})"
    if isinstance(value, GraphPath):
        text = f"({value.nodes[0].key})" if value.nodes else ""
        for here, rel, there in zip(value.nodes[:-1], value.relationships, value.nodes[1:],
                                    strict=True):
            text += f"-[:{rel.type}]->" if rel.start == here.key else f"<-[:{rel.type}]-"
            text += f"({there.key})"
        return text
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, list) and any(isinstance(v, GraphPath) for v in value):
        return "\n".join(_cell(v) for v in value)
    value = _plain(value)
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def render(query: LibraryQuery, rows: list[dict[str, Any]], fmt: OutputFormat) -> str:
    columns = list(query.returns)
    if fmt is OutputFormat.json:
        return json.dumps([_plain(row) for row in rows], indent=2, ensure_ascii=False) + "\n"
    if fmt is OutputFormat.csv:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([_cell(row.get(c)) for c in columns] for row in rows)
        return out.getvalue()
    return _table(query, rows, columns)


def _table(query: LibraryQuery, rows: list[dict[str, Any]], columns: list[str]) -> str:
    """A rich table; wide results (more than 8 columns) as one two-column block per row."""
    from rich.console import Console, Group
    from rich.table import Table

    title = f"{query.name} — {len(rows)} row{'s' * (len(rows) != 1)}"
    if len(columns) <= 8:
        table = Table(title=title)
        for column in columns:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in columns))
        content: Any = table
    else:
        blocks = []
        for number, row in enumerate(rows, start=1):
            block = Table(title=f"{query.name} #{number}", show_header=False, title_justify="left")
            block.add_column("column", style="bold", no_wrap=True)
            block.add_column("value", overflow="fold")
            for column in columns:
                block.add_row(column, _cell(row.get(column)))
            blocks.append(block)
        content = Group(*blocks) if blocks else Table(title=title)
    console = Console(file=io.StringIO(), width=max(120, Console().width), record=True)
    console.print(content)
    return console.export_text()


# -- command line ----------------------------------------------------------------------

query_app = typer.Typer(help="Run the analyst queries of cypher/queries/.")


@query_app.callback(invoke_without_command=True, context_settings={"allow_interspersed_args": True})
def query_command(
    name: Annotated[
        str | None, typer.Argument(help="Query name, e.g. cluster_by_alias (see --list).")
    ] = None,
    param: Annotated[
        list[str] | None,
        typer.Option("--param", "-p", help="A parameter as key=value; repeat for more."),
    ] = None,
    fmt: Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")] = (
        OutputFormat.table
    ),
    list_queries: Annotated[
        bool, typer.Option("--list", help="List the queries with what each answers.")
    ] = False,
) -> None:
    """Run a library query: converge-graph query NAME --param k=v [--format table|json|csv]."""
    try:
        library = load_library(Settings().cypher_dir / "queries")
        if list_queries or name is None:
            typer.echo(_listing(library), nl=False)
            if name is None and not list_queries:
                typer.echo("Run one with: converge-graph query NAME --param key=value", err=True)
            return
        query = library.get(name)
        if query is None:
            raise InvalidInput(
                f"no query named {name!r}; `converge-graph query --list` shows them", field="name"
            )
        params = query.bind(param or [])
        with opened() as service:
            rows = service.library_rows(query, params)
    except ConvergeError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(2 if isinstance(exc, InvalidInput) else 1) from None
    sys.stdout.write(render(query, rows, fmt))


def _listing(library: Mapping[str, LibraryQuery]) -> str:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="converge-graph query library (cypher/queries/)", show_lines=False)
    table.add_column("query", no_wrap=True)
    table.add_column("params")
    table.add_column("what it answers", overflow="fold")
    for query in library.values():
        table.add_row(query.name, query.signature, query.description)
    console = Console(file=io.StringIO(), width=max(120, Console().width), record=True)
    console.print(table)
    return console.export_text()
