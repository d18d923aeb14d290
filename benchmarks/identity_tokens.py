"""Token issue and validation throughput and latency against any Keystone-compatible API.

    python benchmarks/identity_tokens.py --auth-url http://127.0.0.1:5000 --user admin \
        --password ... --project admin [--requests 400] [--concurrency 1 16]

Prints requests/s and p50/p99 latency for ``POST /v3/auth/tokens`` (issue, password method,
project scope) and ``GET /v3/auth/tokens`` (validation of a fresh token) at each concurrency.
Point it at upstream Keystone with the same arguments to compare.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx


def auth_body(args: argparse.Namespace) -> dict:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": args.user, "domain": {"name": args.domain}, "password": args.password}},
            },
            "scope": {"project": {"name": args.project, "domain": {"name": args.domain}}},
        }
    }


def measure(label: str, fn: Callable[[httpx.Client], None], requests: int, concurrency: int, url: str) -> None:
    local = threading.local()
    latencies: list[float] = []
    lock = threading.Lock()

    def one(_: int) -> None:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=url, timeout=60)
        start = time.perf_counter()
        fn(client)
        elapsed = time.perf_counter() - start
        with lock:
            latencies.append(elapsed)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(requests)))
    wall = time.perf_counter() - started
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    print(f"{label:<10} c={concurrency:<3} {requests / wall:8.1f} req/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--auth-url", default="http://127.0.0.1:5000")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--project", default="admin")
    parser.add_argument("--domain", default="Default")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    args = parser.parse_args()
    url = args.auth_url.rstrip("/").removesuffix("/v3")
    body = auth_body(args)
    with httpx.Client(base_url=url, timeout=60) as client:
        resp = client.post("/v3/auth/tokens", json=body)
        resp.raise_for_status()
        token = resp.headers["X-Subject-Token"]

    def issue(client: httpx.Client) -> None:
        client.post("/v3/auth/tokens", json=body).raise_for_status()

    def validate(client: httpx.Client) -> None:
        client.get("/v3/auth/tokens", headers={"X-Auth-Token": token, "X-Subject-Token": token}).raise_for_status()

    print(f"identity at {url}, {args.requests} requests per run")
    for concurrency in args.concurrency:
        measure("issue", issue, args.requests, concurrency, url)
        measure("validate", validate, args.requests, concurrency, url)


if __name__ == "__main__":
    main()
