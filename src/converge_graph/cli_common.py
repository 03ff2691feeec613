"""What every CLI command shares: the console and an opened service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from converge_graph.errors import ConvergeError
from converge_graph.policy import Policy
from converge_graph.service import Service
from converge_graph.settings import Settings
from converge_graph.store.graph import Graph, connect

console = Console(emoji=False)


@contextmanager
def opened() -> Iterator[Service]:
    settings = Settings()
    driver = connect(settings)
    try:
        graph = Graph(driver, settings)
        yield Service(graph, settings, Policy.load(settings.policy_file))
    except ConvergeError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(2) from exc
    finally:
        driver.close()


