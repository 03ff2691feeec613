"""What every CLI command shares: the console and an opened service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from converge_graph.errors import ConvergeError, DatabaseUnavailable
from converge_graph.service import Service
from converge_graph.settings import Settings

console = Console(emoji=False)


def failed(exc: ConvergeError, settings: Settings) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc.message}", soft_wrap=True, highlight=False)
    if isinstance(exc, DatabaseUnavailable):  # say which server and which password we tried
        console.print(f"  Neo4j {settings.neo4j_uri}, user {settings.neo4j_user}, password: "
                      f"{settings.neo4j_password_source}", soft_wrap=True, highlight=False)
    return typer.Exit(2)


@contextmanager
def opened() -> Iterator[Service]:
    settings = Settings()
    try:
        service = Service.open(settings)
    except ConvergeError as exc:
        raise failed(exc, settings) from exc
    try:
        yield service
    except ConvergeError as exc:
        raise failed(exc, settings) from exc
    finally:
        service.close()


