"""Loads ``cypher/*.cypher`` into named queries and fails fast on a bad file.

Each file holds one statement after a ``//`` header that says what it does,
its parameters and what it returns; analysts read these files as the
documentation of exactly what the service runs.
"""

from __future__ import annotations

from pathlib import Path

from converge_graph.core.cypher import Query, load_query


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
