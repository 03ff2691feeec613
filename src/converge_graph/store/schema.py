"""Applies ``cypher/schema.cypher`` idempotently (every statement is IF NOT EXISTS)."""

from __future__ import annotations

import re
from pathlib import Path

from converge_graph.errors import QueryFileError

# The names given in schema.cypher; /readyz checks that each exists.
NAME_RE = re.compile(r"CREATE\s+(?:CONSTRAINT|INDEX)\s+(\w+)", re.IGNORECASE)


def schema_statements(path: Path) -> list[str]:
    if not path.is_file():
        raise QueryFileError(f"schema file {path} is missing")
    text = "\n".join(
        line for line in path.read_text(encoding="utf-8").splitlines()
        if not line.strip().startswith("//")
    )
    statements = [s.strip() for s in text.split(";") if s.strip()]
    if not statements:
        raise QueryFileError(f"schema file {path} has no statement")
    return statements


def schema_names(path: Path) -> set[str]:
    return {m.group(1) for s in schema_statements(path) for m in [NAME_RE.search(s)] if m}
