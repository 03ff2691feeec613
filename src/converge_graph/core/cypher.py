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

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from converge_graph.errors import InvalidInput, QueryFileError


@dataclass(frozen=True)
class GraphNode:
    """A node in a query's result, as the store hands it out (no driver types leave store/)."""

    labels: tuple[str, ...]
    properties: dict[str, Any]
    key: Any  # its id property (profile_id, urn, …), else the element id


@dataclass(frozen=True)
class GraphRel:
    type: str
    start: Any  # the start node's key
    end: Any
    properties: dict[str, Any]


@dataclass(frozen=True)
class GraphPath:
    nodes: list[GraphNode]
    relationships: list[GraphRel]


@dataclass(frozen=True)
class Query:
    name: str
    path: Path
    text: str

    @property
    def description(self) -> str:
        for line in self.text.splitlines():
            stripped = line.strip()
            if stripped.startswith("//"):
                return stripped.lstrip("/ ").strip()
        return ""


def load_query(path: Path) -> Query:
    if not path.is_file():
        raise QueryFileError(f"query file {path} is missing")
    text = path.read_text(encoding="utf-8")
    body = "\n".join(
        line for line in text.splitlines() if line.strip() and not line.strip().startswith("//")
    )
    if not body.strip():
        raise QueryFileError(f"query file {path} has no statement")
    return Query(name=path.stem, path=path, text=text)



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
        return "".join(text for _, text in self._inlined(params))

    def edit_url(self, browser_url: str, params: Mapping[str, Any]) -> str:
        """:func:`browser_edit_url` of :meth:`inline`, the statement's own text quoted once
        per process (percent-encoding works character by character): every cluster read
        links to the same statement, and quoting all of it was a tenth of a lookup's CPU."""
        return _edit_link(browser_url, "".join(
            _quoted(text) if fixed else quote(text, safe="")
            for fixed, text in self._inlined(params)))

    def _inlined(self, params: Mapping[str, Any]) -> Iterator[tuple[bool, str]]:
        """(fixed, text) pieces of :meth:`inline`: the statement's text, or a literal."""
        for is_code, text in _pieces(self.statement):
            start = 0
            if is_code:
                for match in _PARAM_REF.finditer(text):
                    if match.group(1) in params:
                        yield True, text[start:match.start()]
                        yield False, cypher_literal(params[match.group(1)])
                        start = match.end()
            yield True, text[start:]

    @property
    def signature(self) -> str:
        if not self.params:
            return "no parameters"
        return ", ".join(
            f"{p.name} ({p.type}{'' if p.required else f', default {p.default}'})"
            for p in self.params
        )


def _header(query: Query) -> tuple[list[str], str]:
    lines = query.text.splitlines()
    header: list[str] = []
    for line in lines:
        if not line.strip().startswith("//"):
            break
        header.append(line.strip()[2:].strip())
    return header, "\n".join(lines[len(header):]).strip()


def check_service_query(query: Query) -> Query:
    """A service query's header is its documentation: a one-line description, the
    ``$params`` it declares (free text after ``params:``, up to ``returns:``) exactly the
    ones the statement uses, and a ``returns:`` line. QueryFileError names the fault."""
    header, statement = _header(query)
    where = query.path.name
    if not header or not header[0] or header[0].startswith(("params:", "returns:")):
        raise QueryFileError(f"{where}: the header must start with a one-line description")
    starts = [i for i, line in enumerate(header) if line.startswith("params:")]
    ends = [i for i, line in enumerate(header) if line.startswith("returns:")]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise QueryFileError(f"{where}: the header needs one `// params:` line (or "
                             "`params: none`) followed by one `// returns:` line")
    declared = set(_PARAM_REF.findall(" ".join(header[starts[0]:ends[0]])))
    used = set(_references(statement))
    if declared != used:
        raise QueryFileError(
            f"{where}: the header declares {sorted(declared)} but the statement uses "
            f"{sorted(used)}")
    return query


def parse(query: Query) -> LibraryQuery:
    """A library query from a loaded file; QueryFileError names the file and the fault."""
    header, statement = _header(query)
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


@functools.lru_cache(maxsize=1024)
def _quoted(text: str) -> str:
    return quote(text, safe="")


@functools.lru_cache(maxsize=256)
def _pieces(statement: str) -> tuple[tuple[bool, str], ...]:
    """:func:`_spans` of a statement, kept: every cluster read inlines the same one."""
    return tuple(_spans(statement))


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
    return _edit_link(browser_url, quote(cypher, safe=""))


def _edit_link(browser_url: str, quoted: str) -> str:
    return f"{browser_url.rstrip('/')}/?cmd=edit&arg={quoted}"




def load_library(folder: Path) -> dict[str, LibraryQuery]:
    """Every query of the library by name; fails fast on a file with a bad header."""
    paths = sorted(folder.glob("*.cypher"))
    if not paths:
        raise QueryFileError(f"no query files in {folder}")
    return {path.stem: parse(load_query(path)) for path in paths}
