"""Single-event HTTP load against a running API: N webhook events from C concurrent clients,
each event with its own alias (no lock contention), printing events/s and latency.

    python benchmarks/http_load.py http://127.0.0.1:8000 <webhook token> 4000 32

Used to compare `converge-graph serve --workers 1` and `--workers 2` (README, Performance).
Loopback only; the loop is bounded by N.
"""

from __future__ import annotations

import asyncio
import sys
import time

import httpx2 as httpx


async def main(base: str, token: str, n: int, clients: int) -> None:
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(n):
        queue.put_nowait(i)
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def worker() -> None:
            while True:
                try:
                    i = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                began = time.perf_counter()
                resp = await client.post(f"/v1/webhook/{token}", json={
                    "event_name": "Load", "aliases": [f"urn:email:load{i}@shop.com"]})
                resp.raise_for_status()
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    print(f"{n / elapsed:.0f} events/s, p50 {latencies[len(latencies) // 2] * 1000:.1f} ms, "
          f"p99 {latencies[int(len(latencies) * 0.99)] * 1000:.1f} ms")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])))
