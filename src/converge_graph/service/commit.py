"""Group commit: single-event requests that arrive together are resolved and committed
as one batch, and each request is answered after its batch commits.

One worker (the default) takes the first waiting write, then whatever else is already
queued (up to ``max_items``), and commits them as one transaction; writes arriving
meanwhile queue for the next. So batches grow with the load, writes commit in arrival
order, and no two of our transactions contend for locks. Under load (the last batch held
more than one write) it also waits up to ``max_wait`` seconds for more (2 ms by default):
the clients a commit answers all send their next write at once, and without the wait the
first of them went out alone while the rest queued behind it for a whole transaction
(measured: benchmarks/README.md). Idle, after a lone write, the next goes out at once. Several
workers (``workers``) commit concurrently instead; on overlapping traffic their batches
serialise on the aliases and clusters they share, which measured slower (docs/scaling.md).

One bad write must not fail the requests it was gathered with: when a batch fails for a
reason other than the database being unavailable, its writes are committed again one by
one, so only the write at fault fails.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from converge_graph.core.batch import Prepared
from converge_graph.errors import DatabaseUnavailable
from converge_graph.service import Service, Write


class GroupCommit:
    def __init__(self, service: Service, *, max_wait: float = 0.002, max_items: int = 500,
                 workers: int = 1) -> None:
        self.service = service
        self.max_wait = max_wait
        self.max_items = max_items
        self.workers = workers
        self._queue: asyncio.Queue[tuple[Prepared, asyncio.Future]] = asyncio.Queue()
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._work()) for _ in range(self.workers)]

    async def stop(self) -> None:
        while not self._queue.empty():  # answer what was accepted before stopping
            await asyncio.sleep(0.01)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def submit(self, write: Write) -> dict[str, Any]:
        """Resolve and commit one write together with whatever arrives alongside it."""
        prepared = self.service.prepare(write)  # a malformed alias fails this request only
        future: asyncio.Future = asyncio.get_running_loop().create_future()
        await self._queue.put((prepared, future))
        return await future

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        busy = False  # whether the last batch gathered more than one write
        while True:
            items = [await self._queue.get()]
            deadline = loop.time() + (self.max_wait if busy else 0.0)
            while len(items) < self.max_items:
                try:
                    items.append(self._queue.get_nowait())
                    continue
                except asyncio.QueueEmpty:
                    pass
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    items.append(await asyncio.wait_for(self._queue.get(), remaining))
                except TimeoutError:
                    break
            busy = len(items) > 1
            await self._commit(items)

    async def _commit(self, items: list[tuple[Prepared, asyncio.Future]]) -> None:
        try:
            results = await asyncio.to_thread(self.service.ingest_prepared,
                                              [p for p, _ in items])
        except Exception as exc:
            if len(items) > 1 and not isinstance(exc, DatabaseUnavailable):
                for item in items:  # isolate the write at fault; its neighbours commit
                    await self._commit([item])
                return
            for _, future in items:  # the database is down: every request learns why
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(items, results, strict=True):
            if not future.done():
                future.set_result(result)
