"""What every CLI command shares: the console and an opened service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from converge_graph.errors import ConvergeError
from converge_graph.service import Service
from converge_graph.settings import Settings

console = Console(emoji=False)


@contextmanager
def opened() -> Iterator[Service]:
    try:
        service = Service.open(Settings())
    except ConvergeError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    try:
        yield service
    except ConvergeError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    finally:
        service.close()


