"""`converge-graph import`: backfill a JSON-lines file of webhook events through the batch path.

Each line is one event in the seed's server-side shape, exactly the body of
``POST /v1/webhook/{token}``. Lines are checked as the batch endpoint checks its
items (the event model, the size limit, alias screening); a bad line is written to
the reject file with its number and reason and does not stop the import. Valid
events go through :meth:`Service.ingest_batch` in chunks, so they are resolved
exactly as if they had been posted in file order.

Re-running a file is safe, and this is how an interrupted import resumes: every
event carries an ``event_id`` (its own, or for a line without one a deterministic
``imp_<path hash>_<line>``), so a replayed event is deduplicated and adds nothing.
``--from-line`` skips what the summary reported as committed, to save the replay.

Imported events are not sent to destinations unless ``--forward`` says so: history would
reach an ad platform as new conversions (docs/destinations.md#imports-and-destinations).
The identity changes an import makes are recorded as any write's are.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from converge_graph.cli.common import console, opened
from converge_graph.core.batch import Prepared
from converge_graph.errors import ConvergeError, InvalidInput, NotFound
from converge_graph.service import Service
from converge_graph.service.ingest import Rejection

GZIP_MAGIC = b"\x1f\x8b"


@dataclass
class Reject:
    line: int
    reason: str
    field: str | None = None
    text: str = ""


@dataclass
class Summary:
    file: str
    source: str
    lines: int = 0
    blank: int = 0
    events: int = 0  # new events stored
    duplicates: int = 0  # events whose event_id was already stored
    profile_updates: int = 0  # `set` writes: aliases and properties, no event
    ignored_aliases: int = 0
    rejected: int = 0
    merges: int = 0  # SAME_AS links added while the import ran
    forwarded: bool = False  # events recorded for delivery to destinations (--forward)
    committed_through_line: int = 0
    seconds: float = 0.0
    rejects_file: str | None = None
    interrupted: bool = False
    error: str | None = None  # why the import stopped early, if it did

    @property
    def written(self) -> int:
        return self.events + self.duplicates + self.profile_updates

    def as_dict(self) -> dict[str, Any]:
        rate = self.written / self.seconds if self.seconds else 0.0
        return {**asdict(self), "events_per_second": round(rate, 1)}


@dataclass
class Chunk:
    writes: list[Prepared] = field(default_factory=list)
    first_line: int = 0
    last_line: int = 0
    lines: int = 0  # every line it covers: written, rejected and blank


def open_text(path: Path) -> IO[str]:
    """The file as text, gunzipped when it is gzip (by its magic bytes, whatever its name)."""
    with path.open("rb") as raw:
        gz = raw.read(2) == GZIP_MAGIC
    if gz:
        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    return path.open("r", encoding="utf-8", newline="\n")


def count_lines(path: Path) -> int:
    with open_text(path) as handle:
        return sum(1 for _ in handle)


def path_digest(path: Path) -> str:
    return hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:16]


def derived_event_id(digest: str, line: int) -> str:
    """The id of a line that names none: stable across re-runs of the same file path."""
    return f"imp_{digest}_{line}"


def default_rejects(path: Path) -> Path:
    name = path.name
    for suffix in (".gz", ".jsonl", ".ndjson", ".json"):
        name = name.removesuffix(suffix)
    return path.with_name(f"{name}.rejects.jsonl")


class LineChecker:
    """One line to a :class:`Write`, or a :class:`Reject` saying why not (as the batch route)."""

    def __init__(self, service: Service, source: dict[str, Any], path: Path,
                 forward: bool = False) -> None:
        self.service = service
        self.source = source
        self.forward = forward
        self.digest = path_digest(path)
        self.max_bytes = service.settings.max_event_bytes

    def check(self, number: int, text: str) -> Prepared | Reject:
        size = len(text.encode("utf-8", "surrogatepass"))
        if size > self.max_bytes:
            return Reject(number, f"the line is {size} bytes; one event may have at most "
                                  f"{self.max_bytes} — split its properties", "line")
        try:
            item = json.loads(text)
        except json.JSONDecodeError as exc:
            return Reject(number, f"not valid JSON: {exc.msg} at column {exc.colno}", "line")
        if not isinstance(item, dict):
            return Reject(number, "each line must be one JSON object: a webhook event", "line")
        admitted = self.service.admit(self.source, item, "",
                                      derived_event_id(self.digest, number))
        if isinstance(admitted, Rejection):
            return Reject(number, admitted.message, admitted.field)
        admitted.forward = self.forward
        return admitted


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        label = f"{speed:,.0f} events/s" if speed else "… events/s"
        return Text(label, style="progress.data.speed")


def chunks(
    handle: IO[str], checker: LineChecker, size: int, first_line: int,
    rejects: list[Reject], summary: Summary,
) -> Iterator[Chunk]:
    """Chunks of at most ``size`` writes; rejects are collected on the way."""
    chunk = Chunk(first_line=first_line)
    for number, raw in enumerate(handle, start=1):
        if number < first_line:
            continue
        summary.lines += 1
        chunk.lines += 1
        chunk.last_line = number
        text = raw.rstrip("\r\n")
        if not text.strip():
            summary.blank += 1
            continue
        checked = checker.check(number, text)
        if isinstance(checked, Reject):
            checked.text = text
            rejects.append(checked)
            summary.rejected += 1
        else:
            chunk.writes.append(checked)
        if len(chunk.writes) >= size:
            yield chunk
            chunk = Chunk(first_line=number + 1)
    if chunk.lines:
        yield chunk


def tally(summary: Summary, results: list[dict[str, Any]]) -> None:
    for result in results:
        summary.ignored_aliases += len(result.get("ignored_aliases") or ())
        if result.get("event_id") is None:
            summary.profile_updates += 1
        elif result.get("deduplicated"):
            summary.duplicates += 1
        else:
            summary.events += 1


class RejectWriter:
    """Appends rejects as JSON lines; the file is created (truncated) at the first one."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle: IO[str] | None = None

    def write(self, rejects: list[Reject]) -> None:
        if not rejects:
            return
        if self.handle is None:
            self.handle = self.path.open("w", encoding="utf-8")
        for reject in rejects:
            self.handle.write(json.dumps(asdict(reject), ensure_ascii=False) + "\n")
        self.handle.flush()
        rejects.clear()

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()


def find_source(service: Service, name: str) -> dict[str, Any]:
    found = service.datasources_named(name)
    if not found:
        raise NotFound(
            f"no datasource named {name!r}; create one with "
            f"`converge-graph sources add {name} --kind webhook`", field="source")
    if len(found) > 1:
        ids = ", ".join(s["source_id"] for s in found)
        raise InvalidInput(
            f"{len(found)} datasources are named {name!r} ({ids}); pass one's source_id "
            "as --source", field="source")
    source = found[0]
    if source["kind"] != "webhook":
        raise InvalidInput(
            f"{name!r} is a {source['kind']} datasource; import replays server-side events, "
            "so name a webhook datasource", field="source")
    return {"source_id": source["source_id"], "name": source["name"], "kind": source["kind"]}


def run_import(
    service: Service, path: Path, source_name: str, batch_size: int, rejects_path: Path,
    first_line: int = 1, progress_console: Console | None = None, forward: bool = False,
) -> Summary:
    """Import ``path``; the summary says how far it got even when it stops early.
    ``forward``: record the new events' deliveries to destinations, as live writes do."""
    source = find_source(service, source_name)
    summary = Summary(file=str(path), source=source["name"], forwarded=forward)
    total = max(count_lines(path) - first_line + 1, 0)
    links_before = service.same_as_links()
    checker = LineChecker(service, source, path, forward)
    pending_rejects: list[Reject] = []
    writer = RejectWriter(rejects_path)
    started = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]importing[/bold]"), BarColumn(), MofNCompleteColumn(), RateColumn(),
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
        console=progress_console or Console(stderr=True), transient=False,
    )

    def finish(future: Future, chunk: Chunk) -> None:
        tally(summary, future.result())
        summary.committed_through_line = chunk.last_line
        progress.advance(task, chunk.lines)

    # The next chunk is parsed and screened while Neo4j commits the previous one; one
    # worker keeps the chunks in file order, so the outcome is that of a serial run.
    try:
        with progress, ThreadPoolExecutor(max_workers=1) as pool, open_text(path) as handle:
            task = progress.add_task("import", total=total)
            pending: tuple[Future, Chunk] | None = None
            for chunk in chunks(handle, checker, batch_size, first_line, pending_rejects,
                                summary):
                writer.write(pending_rejects)
                if pending is not None:
                    finish(*pending)
                if chunk.writes:
                    pending = (pool.submit(service.ingest_prepared, chunk.writes), chunk)
                else:
                    pending = None
                    summary.committed_through_line = chunk.last_line
                    progress.advance(task, chunk.lines)
            if pending is not None:
                finish(*pending)
    except KeyboardInterrupt:
        summary.interrupted = True
    except ConvergeError as exc:  # Neo4j went away: report how far the import got
        summary.error = exc.message
    finally:
        writer.write(pending_rejects)
        writer.close()
        summary.seconds = round(time.perf_counter() - started, 3)
        if writer.handle is not None:
            summary.rejects_file = str(rejects_path)
    if summary.error is None:
        summary.merges = service.same_as_links() - links_before
    return summary


def print_summary(summary: Summary) -> None:
    table = Table(title=f"import of {summary.file} into {summary.source}", show_header=False)
    table.add_column(style="bold")
    table.add_column(justify="right")
    rate = summary.as_dict()["events_per_second"]
    for label, value in (
        ("lines read", summary.lines), ("new events", summary.events),
        ("duplicates (event_id already stored)", summary.duplicates),
        ("profile updates (method set)", summary.profile_updates),
        ("merges (SAME_AS links added)", summary.merges),
        ("aliases ignored (junk, limits, hubs)", summary.ignored_aliases),
        ("rejected lines", summary.rejected), ("blank lines", summary.blank),
        ("events sent to destinations", "yes (--forward)" if summary.forwarded else "no"),
        ("seconds", f"{summary.seconds:.1f}"), ("writes/s", f"{rate:,.0f}"),
    ):
        table.add_row(label, str(value))
    console.print(table)
    if summary.rejects_file:
        console.print(f"rejected lines, with line numbers and reasons: {summary.rejects_file}")
    if summary.interrupted or summary.error:
        why = "interrupted" if summary.interrupted else f"stopped: {summary.error}"
        console.print(
            f"[yellow]{why}[/yellow]\nlines up to {summary.committed_through_line} are "
            "committed. Re-running is safe (event ids deduplicate); to skip the replay pass "
            f"--from-line {summary.committed_through_line + 1}", soft_wrap=True)


def import_command(
    file: Annotated[Path, typer.Argument(
        exists=True, dir_okay=False, readable=True,
        help="JSON lines, one webhook event each; gzip-compressed files are read as such")],
    source: Annotated[str, typer.Option(
        help="The webhook datasource the events came from: its name (or source_id)")],
    batch_size: Annotated[int, typer.Option(
        min=1, max=5000, help="Events per batch write (one transaction each)")] = 500,
    rejects: Annotated[Path | None, typer.Option(
        help="Where rejected lines go (default: FILE's name + .rejects.jsonl)")] = None,
    from_line: Annotated[int, typer.Option(
        min=1, help="Skip the lines before this one (a resumed import)")] = 1,
    forward: Annotated[bool, typer.Option(
        "--forward/--no-forward",
        help="Send the new events to destinations as live ones are. Off by default: "
             "history would reach ad platforms as new conversions. Identity changes are "
             "recorded either way")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Backfill events from a JSON-lines file (.jsonl or .jsonl.gz); safe to re-run."""
    with opened() as service:
        summary = run_import(service, file, source, batch_size,
                             rejects or default_rejects(file), from_line, forward=forward)
    if as_json:
        typer.echo(json.dumps(summary.as_dict()))
    else:
        print_summary(summary)
    if summary.interrupted:
        raise typer.Exit(130)
    if summary.error:
        raise typer.Exit(2)
