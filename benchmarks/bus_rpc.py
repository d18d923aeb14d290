"""RPC call throughput and latency of stratus.core.bus.

    python benchmarks/bus_rpc.py [--url memory://|amqp://guest:guest@127.0.0.1:5672//] \
        [--calls 2000] [--concurrency 1 16] [--workers 16] [--cast]

Starts one server (its own Bus, ``--workers`` threads, a no-op ``echo`` method) and one caller Bus
shared by all caller threads, as the API and an agent do in one process, then prints calls/s and
p50/p99 latency of ``call`` at each concurrency. ``--cast`` adds cast throughput (publish side only).
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from stratus.core.bus import Bus


class Echo:
    def __init__(self) -> None:
        self.casts = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.expected = 0

    def echo(self, value: Any) -> Any:
        return value

    def count(self) -> None:
        with self.lock:
            self.casts += 1
            if self.casts >= self.expected:
                self.done.set()


def measure_calls(bus: Bus, topic: str, calls: int, concurrency: int) -> None:
    latencies: list[float] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        start = time.perf_counter()
        assert bus.call(topic, "echo", value=i) == i
        elapsed = time.perf_counter() - start
        with lock:
            latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(calls)))
    wall = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(f"call  c={concurrency:<3} {calls / wall:8.1f} calls/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")


def measure_casts(bus: Bus, topic: str, endpoint: Echo, calls: int) -> None:
    endpoint.casts, endpoint.expected = 0, calls
    endpoint.done.clear()
    started = time.perf_counter()
    for _ in range(calls):
        bus.cast(topic, "count")
    published = time.perf_counter() - started
    endpoint.done.wait(120)
    handled = time.perf_counter() - started
    print(f"cast  c=1   {calls / published:8.1f} casts/s published, {calls / handled:8.1f} casts/s handled")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="memory://")
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--cast", action="store_true")
    args = parser.parse_args()
    topic = f"bench-{uuid.uuid4().hex[:8]}"
    endpoint = Echo()
    with Bus(args.url, name="bench") as server, Bus(args.url, name="bench") as caller:
        server.serve(topic, endpoint, workers=args.workers)
        for i in range(20):  # warm up: reply queue, producer pool, declarations
            caller.call(topic, "echo", value=i)
        print(f"bus at {caller.url}, {args.calls} calls per run, server with {args.workers} workers")
        for concurrency in args.concurrency:
            measure_calls(caller, topic, args.calls, concurrency)
        if args.cast:
            measure_casts(caller, topic, endpoint, args.calls)


if __name__ == "__main__":
    main()
