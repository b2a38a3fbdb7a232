"""How fast one Python process publishes through the SDK, batched against unbatched, and its CPU per event.

    AGENTWIRE_PRODUCER_KEY=… taskset -c 1 python3 bench/publish_rate.py http://127.0.0.1:8080 [events] [rounds]

Unbatched: each publish awaited before the next, one event per request or frame (what a runtime that awaits every
event gets). Batched: the publishes of many runs in flight at once (gathered), sent together by linger and bytes.
Each mode over HTTP and over the producer socket, interleaved, ``rounds`` times; medians printed as a Markdown table
and as JSON. 200-byte payloads, to 100 users (so no user's stream is the bottleneck).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))

from agentwire import AsyncClient  # noqa: E402

PAYLOAD = {"text": "x" * 188}  # 200 bytes encoded


async def unbatched(url: str, transport: str, events: int) -> tuple[float, float]:
    async with AsyncClient(url, transport=transport, linger_ms=0, max_batch_events=1) as client:
        started, cpu = time.perf_counter(), time.process_time()
        for n in range(events):
            await client.publish("app.bench", PAYLOAD, user=f"bench-{n % 100}")
        return time.perf_counter() - started, time.process_time() - cpu


async def batched(url: str, transport: str, events: int) -> tuple[float, float]:
    async with AsyncClient(url, transport=transport, linger_ms=2, max_batch_events=500,
                           max_in_flight=5_000) as client:
        started, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(client.publish("app.bench", PAYLOAD, user=f"bench-{n % 100}")
                               for n in range(events)))
        return time.perf_counter() - started, time.process_time() - cpu


async def main(url: str, events: int, rounds: int) -> None:
    modes = [("unbatched", "http", unbatched), ("batched", "http", batched),
             ("unbatched", "socket", unbatched), ("batched", "socket", batched)]
    seen: dict[tuple[str, str], list[tuple[float, float]]] = {(m, t): [] for m, t, _ in modes}
    for _ in range(rounds):
        for mode, transport, run in modes:
            count = events if mode == "batched" else events // 5
            wall, cpu = await run(url, transport, count)
            seen[(mode, transport)].append((count / wall, cpu / count * 1e6))
    print("| mode | transport | events/s (median) | SDK CPU µs per event (median) |")
    print("|---|---|---|---|")
    rows = []
    for (mode, transport), samples in seen.items():
        rate = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        rows.append({"mode": mode, "transport": transport, "events_per_s": round(rate), "cpu_us_per_event":
                     round(cpu, 1), "rounds": rounds})
        print(f"| {mode} | {transport} | {rate:,.0f} | {cpu:.1f} |")
    print(json.dumps(rows))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080",
                     int(sys.argv[2]) if len(sys.argv) > 2 else 20_000,
                     int(sys.argv[3]) if len(sys.argv) > 3 else 3))
