"""Loads ``cypher/*.cypher`` into named queries and fails fast on a bad file.

Each file holds one statement after a ``//`` header that says what it does,
its parameters and what it returns; analysts read these files as the
documentation of exactly what the service runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from converge_graph.errors import QueryFileError


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


class Queries:
    """Named queries from a folder; ``queries.upsert_aliases`` is ``upsert_aliases.cypher``."""

    def __init__(self, folder: Path, names: tuple[str, ...]) -> None:
        self.folder = folder
        self._queries = {name: load_query(folder / f"{name}.cypher") for name in names}

    def __getattr__(self, name: str) -> str:
        try:
            return self._queries[name].text
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Query:
        return self._queries[name]
