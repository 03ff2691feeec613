"""The analyst query library: ``cypher/queries/*.cypher``, documented by their own headers.

Each file holds one read-only statement under a header of ``//`` lines::

    // One line saying what the query answers (shown by `converge-graph query --list`).
    // Optional further lines: definitions, caveats.
    // params: $urn (string) — an alias URN exactly as stored
    // params: $limit (int, default 50) — at most this many rows
    // returns: cluster_id, profile_id, events

``// params: none`` marks a query without parameters; types are ``string``, ``int``,
``float`` and ``bool``. The header is checked when the library loads: every ``$name`` in
the statement is declared and every declared one is used, so the files stay the
documentation analysts can trust. ``converge-graph query NAME --param k=v`` runs one.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import typer

from converge_graph.errors import ConvergeError, InvalidInput, QueryFileError
from converge_graph.settings import Settings
from converge_graph.store.queries import Query, load_query

if TYPE_CHECKING:
    import neo4j

PARAM_TYPES = ("string", "int", "float", "bool")
_PARAM_LINE = re.compile(
    r"^\$(?P<name>[A-Za-z_]\w*)\s*\((?P<type>\w+)(?:,\s*default\s+(?P<default>[^)]+))?\)"
    r"\s*(?:—|--|-)\s*(?P<meaning>\S.*)$"
)
_PARAM_REF = re.compile(r"\$([A-Za-z_]\w*)")
_TRUE, _FALSE = {"true", "yes", "1"}, {"false", "no", "0"}


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    meaning: str
    default: Any = None

    @property
    def required(self) -> bool:
        return self.default is None

    def convert(self, raw: str) -> Any:
        """The typed value of a command-line string, or InvalidInput saying what would do."""
        text = raw.strip()
        try:
            if self.type == "int":
                return int(text)
            if self.type == "float":
                return float(text)
        except ValueError:
            kind = "an int" if self.type == "int" else "a number"
            raise InvalidInput(
                f"--param {self.name} takes {kind}, not {raw!r}", field=self.name
            ) from None
        if self.type == "bool":
            if text.lower() in _TRUE | _FALSE:
                return text.lower() in _TRUE
            raise InvalidInput(
                f"--param {self.name} takes true or false, not {raw!r}", field=self.name
            )
        return raw


@dataclass(frozen=True)
class LibraryQuery:
    name: str
    path: Path
    description: str
    notes: str
    params: tuple[Param, ...]
    returns: tuple[str, ...]
    statement: str

    def bind(self, pairs: Sequence[str] = ()) -> dict[str, Any]:
        """Typed parameters from ``k=v`` strings; defaults fill what is not given."""
        declared = {p.name: p for p in self.params}
        given: dict[str, Any] = {}
        for pair in pairs:
            key, sep, raw = pair.partition("=")
            key = key.strip().lstrip("$")
            if not sep or not key:
                raise InvalidInput(f"--param takes key=value, not {pair!r}", field="param")
            if key not in declared:
                raise InvalidInput(
                    f"{self.name} has no parameter {key!r}; it takes {self.signature}",
                    field=key,
                )
            given[key] = declared[key].convert(raw)
        values = {p.name: p.default for p in self.params if p.default is not None} | given
        missing = [p.name for p in self.params if p.name not in values]
        if missing:
            raise InvalidInput(
                f"{self.name} needs --param {missing[0]}=…; it takes {self.signature}",
                field=missing[0],
            )
        return values

    def inline(self, params: Mapping[str, Any]) -> str:
        """The statement with literals for the given parameters, for Browser links and guides.

        Parameters not in ``params`` stay ``$name``, to be set with Browser's ``:param``.
        """

        def literal(match: re.Match[str]) -> str:
            name = match.group(1)
            return cypher_literal(params[name]) if name in params else match.group(0)

        return "".join(
            _PARAM_REF.sub(literal, text) if is_code else text
            for is_code, text in _spans(self.statement)
        )

    @property
    def signature(self) -> str:
        if not self.params:
            return "no parameters"
        return ", ".join(
            f"{p.name} ({p.type}{'' if p.required else f', default {p.default}'})"
            for p in self.params
        )


def parse(query: Query) -> LibraryQuery:
    """A library query from a loaded file; QueryFileError names the file and the fault."""
    lines = query.text.splitlines()
    header: list[str] = []
    for line in lines:
        if not line.strip().startswith("//"):
            break
        header.append(line.strip()[2:].strip())
    statement = "\n".join(lines[len(header) :]).strip()
    where = query.path.name

    if not header or not header[0] or header[0].startswith(("params:", "returns:")):
        raise QueryFileError(f"{where}: the header must start with a one-line description")
    if not header[-1].startswith("returns:"):
        raise QueryFileError(f"{where}: the header must end with a `// returns: col, …` line")
    returns = tuple(c.strip() for c in header[-1].removeprefix("returns:").split(","))
    if not all(returns):
        raise QueryFileError(f"{where}: `returns:` must list the columns, comma-separated")

    notes: list[str] = []
    params: list[Param] = []
    for line in header[1:-1]:
        if line.startswith("returns:"):
            raise QueryFileError(f"{where}: only one `returns:` line, at the end of the header")
        if line.startswith("params:"):
            params.extend(_parse_param(where, line.removeprefix("params:").strip()))
        elif params:
            raise QueryFileError(f"{where}: notes go before the `params:` lines")
        else:
            notes.append(line)
    if not any(line.startswith("params:") for line in header):
        raise QueryFileError(f"{where}: declare parameters with `// params:` (or `params: none`)")

    declared = [p.name for p in params]
    used = sorted({name for name in _references(statement)})
    if sorted(declared) != used or len(set(declared)) != len(declared):
        raise QueryFileError(
            f"{where}: the header declares {sorted(declared)} but the statement uses {used}"
        )
    return LibraryQuery(
        name=query.name,
        path=query.path,
        description=query.description,
        notes=" ".join(notes),
        params=tuple(params),
        returns=returns,
        statement=statement,
    )


def _parse_param(where: str, text: str) -> list[Param]:
    if text == "none":
        return []
    match = _PARAM_LINE.match(text)
    if match is None:
        raise QueryFileError(f"{where}: write parameters as `// params: $name (type) — meaning`")
    kind = match["type"]
    if kind not in PARAM_TYPES:
        raise QueryFileError(f"{where}: parameter type {kind!r} is not one of {PARAM_TYPES}")
    param = Param(name=match["name"], type=kind, meaning=match["meaning"].strip())
    if match["default"] is not None:
        try:
            default = param.convert(match["default"].strip())
        except InvalidInput as exc:
            raise QueryFileError(f"{where}: default of ${param.name}: {exc.message}") from None
        param = Param(param.name, param.type, param.meaning, default)
    return [param]


def _spans(statement: str) -> Iterator[tuple[bool, str]]:
    """(is_code, text) pieces: string literals, `quoted names` and comments are not code."""
    code_start = i = 0
    n = len(statement)
    while i < n:
        ch = statement[i]
        if ch in "'\"`":
            end = i + 1
            while end < n and statement[end] != ch:
                end += 2 if statement[end] == "\\" and ch != "`" else 1
        elif statement.startswith("//", i):
            end = statement.find("\n", i)
            end = n if end < 0 else end - 1
        else:
            i += 1
            continue
        yield True, statement[code_start:i]
        yield False, statement[i : end + 1]
        i = code_start = end + 1
    yield True, statement[code_start:]


def _references(statement: str) -> Iterator[str]:
    for is_code, text in _spans(statement):
        if is_code:
            yield from _PARAM_REF.findall(text)


def cypher_literal(value: Any) -> str:
    """A Cypher literal for a parameter value (strings escaped), for display and deep links."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(cypher_literal(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = (f"`{str(k).replace('`', '``')}`: {cypher_literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"no Cypher literal for {type(value).__name__}")


def browser_edit_url(browser_url: str, cypher: str) -> str:
    """A Neo4j Browser link that opens with ``cypher`` in the editor (``?cmd=edit&arg=``)."""
    return f"{browser_url.rstrip('/')}/?cmd=edit&arg={quote(cypher, safe='')}"


def library_dir(settings: Settings | None = None) -> Path:
    return (settings or Settings()).cypher_dir / "queries"


def load_library(folder: Path | None = None) -> dict[str, LibraryQuery]:
    """Every query of the library by name; fails fast on a file with a bad header."""
    folder = folder or library_dir()
    paths = sorted(folder.glob("*.cypher"))
    if not paths:
        raise QueryFileError(f"no query files in {folder}")
    return {path.stem: parse(load_query(path)) for path in paths}


def run(
    driver: neo4j.Driver, query: LibraryQuery, params: Mapping[str, Any], database: str | None
) -> list[dict[str, Any]]:
    """The rows of one library query, in a read transaction; values as the driver gives them."""
    import neo4j
    from neo4j.exceptions import ClientError

    from converge_graph.store.graph import translated

    with translated():
        try:
            records, _, _ = driver.execute_query(
                query.statement,
                dict(params),
                database_=database,
                routing_=neo4j.RoutingControl.READ,
            )
        except ClientError as exc:
            raise InvalidInput(f"{query.name}: Neo4j refused it: {exc.message}") from exc
    return [dict(record.items()) for record in records]


def get_driver_and_db() -> tuple[neo4j.Driver, str]:
    """A driver and database name from the environment (Settings), as the service uses."""
    from converge_graph.store.graph import connect

    settings = Settings()
    return connect(settings), settings.neo4j_database


# -- output ----------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """JSON-ready values: temporals as ISO 8601 strings, nodes and paths as maps."""
    import neo4j.graph
    import neo4j.time

    if isinstance(value, neo4j.graph.Node):
        return {"labels": sorted(value.labels), "properties": plain(dict(value.items()))}
    if isinstance(value, neo4j.graph.Relationship):
        return {
            "type": value.type,
            "start": _node_key(value.start_node),
            "end": _node_key(value.end_node),
            "properties": plain(dict(value.items())),
        }
    if isinstance(value, neo4j.graph.Path):
        return {
            "nodes": [plain(node) for node in value.nodes],
            "relationships": [plain(rel) for rel in value.relationships],
        }
    if isinstance(value, neo4j.time.Duration):
        return value.iso_format()
    if hasattr(value, "to_native"):
        return value.to_native().isoformat()
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def _node_key(node: Any) -> Any:
    if node is None:
        return None
    for key in ("profile_id", "urn", "event_id", "source_id", "cluster_id"):
        if key in node:
            return node[key]
    return node.element_id


def _cell(value: Any) -> str:
    """One table or CSV cell: graph elements in Cypher-like shorthand, lists as JSON."""
    import neo4j.graph
    import neo4j.time

    if value is None:
        return ""
    if isinstance(value, neo4j.graph.Node):
        return f"(:{':'.join(sorted(value.labels))} {_node_key(value)})"
    if isinstance(value, neo4j.graph.Path):
        text = f"({_node_key(value.start_node)})"
        steps = zip(value.nodes[:-1], value.relationships, value.nodes[1:], strict=True)
        for here, rel, there in steps:
            forward = rel.start_node is not None and rel.start_node.element_id == here.element_id
            text += f"-[:{rel.type}]->" if forward else f"<-[:{rel.type}]-"
            text += f"({_node_key(there)})"
        return text
    if isinstance(value, neo4j.time.DateTime):
        return value.to_native().isoformat(sep=" ", timespec="seconds").replace("+00:00", "Z")
    if isinstance(value, list) and any(isinstance(v, neo4j.graph.Path) for v in value):
        return "\n".join(_cell(v) for v in value)
    value = plain(value)
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
        return json.dumps([plain(row) for row in rows], indent=2, ensure_ascii=False) + "\n"
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
        library = load_library()
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
        driver, database = get_driver_and_db()
        try:
            rows = run(driver, query, params, database)
        finally:
            driver.close()
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
