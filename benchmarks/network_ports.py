"""Port creation throughput of the network API, on the fake and the OVN back ends.

    .venv/bin/python benchmarks/network_ports.py                    # 500 ports, 1 and 8 client threads
    .venv/bin/python benchmarks/network_ports.py --ports 200 --threads 1 4 --backends fake

Runs the network service in-process (SQLite, like the all-in-one default, unless
STRATUS_TEST_DATABASE=postgresql) behind a real uvicorn server on a local port, on one tenant
network with a /22. For ``ovn`` it starts a throwaway NB ovsdb-server on a unix socket (killed at the
end) and a second, independent NB client that timestamps each Logical_Switch_Port the moment its
IDL sees it: "create -> NB row" is from just before the POST to that moment. Figures are printed,
never asserted.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx  # noqa: E402
from ovsdbapp.backend.ovs_idl import connection, event, idlutils  # noqa: E402

from stratus.core.api.auth import Authenticator, StaticValidator  # noqa: E402
from stratus.core.api.server import ApiServer  # noqa: E402
from stratus.network.service import NetworkService  # noqa: E402
from tests.functional.network.conftest import PERSONAS, make_config  # noqa: E402
from tests.functional.network.ovn_server import NbServer, wait_for  # noqa: E402


class Seen(event.RowEvent):  # type: ignore[misc]
    def __init__(self, stamps: dict[str, float]):
        super().__init__((self.ROW_CREATE,), "Logical_Switch_Port", None)
        self.stamps = stamps

    def run(self, _event: str, row: Any, _old: Any) -> None:
        self.stamps.setdefault(row.name, time.monotonic())


class Watcher(connection.OvsdbIdl):  # type: ignore[misc]
    """An independent NB client: when does each switch port appear in the NB DB?"""

    def __init__(self, remote: str, stamps: dict[str, float]):
        helper = idlutils.get_schema_helper(remote, "OVN_Northbound")
        helper.register_table("Logical_Switch_Port")
        super().__init__(remote, helper, leader_only=False)
        self.handler = event.RowEventHandler()
        self.handler.watch_event(Seen(stamps))
        self.conn = connection.Connection(self, timeout=10)
        self.conn.start()

    def notify(self, event_: str, row: Any, updates: Any = None) -> None:
        self.handler.notify(event_, row, updates)

    def stop(self) -> None:
        self.conn.stop(timeout=5)
        self.handler.shutdown()


def run(backend: str, ports: int, threads: int) -> dict[str, Any]:
    server = NbServer() if backend == "ovn" else None
    stamps: dict[str, float] = {}
    watcher = None
    service = None
    api_server = None
    try:
        extra: dict[str, Any] = {}
        if server is not None:
            server.start()
            extra = {"ovn_nb_connection": server.remote, "gateway_chassis": ["gw1"]}
            watcher = Watcher(server.remote, stamps)
        config = make_config(Path(tempfile.mkdtemp(prefix="stratus-bench-")), backend=backend, **extra)
        service = NetworkService(config, authenticator=Authenticator(StaticValidator(PERSONAS)))
        service.start()
        wait_for(service.backend.is_connected, 10, "the back end")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        api_server = ApiServer("network", service.app, "127.0.0.1", port)
        api_server.start()
        client = httpx.Client(base_url=api_server.url, timeout=60)
        headers = {"X-Auth-Token": "admin"}
        net = client.post("/v2.0/networks", json={"network": {"name": "bench"}}, headers=headers).json()["network"]
        body = {"subnet": {"network_id": net["id"], "cidr": "10.60.0.0/22", "ip_version": 4}}
        client.post("/v2.0/subnets", json=body, headers=headers).raise_for_status()
        client.put(f"/v2.0/quotas/{'f' * 32}", json={"quota": {"port": -1}}, headers=headers).raise_for_status()
        started: dict[str, float] = {}
        lock = threading.Lock()

        def create(n: int) -> float:
            t0 = time.monotonic()
            resp = client.post(
                "/v2.0/ports", json={"port": {"network_id": net["id"], "name": f"p{n}"}}, headers=headers
            )
            resp.raise_for_status()
            with lock:
                started[resp.json()["port"]["id"]] = t0
            return time.monotonic() - t0

        t_start = time.monotonic()
        with ThreadPoolExecutor(max_workers=threads) as pool:
            latencies = list(pool.map(create, range(ports)))
        elapsed = time.monotonic() - t_start
        result: dict[str, Any] = {
            "backend": backend,
            "threads": threads,
            "ports": ports,
            "ports_per_s": ports / elapsed,
            "api_p50_ms": statistics.median(latencies) * 1000,
            "api_p95_ms": statistics.quantiles(latencies, n=20)[18] * 1000,
        }
        if watcher is not None:
            wait_for(lambda: all(p in stamps for p in started), 30, "every port in the NB")
            nb = sorted(stamps[p] - t0 for p, t0 in started.items())
            result["nb_p50_ms"] = statistics.median(nb) * 1000
            result["nb_p95_ms"] = nb[int(len(nb) * 0.95) - 1] * 1000
            result["nb_max_ms"] = nb[-1] * 1000
            t0 = time.monotonic()
            service.resync()
            result["resync_ms"] = (time.monotonic() - t0) * 1000
        client.close()
        return result
    finally:
        if api_server is not None:
            api_server.stop()
        if service is not None:
            service.close()
        if watcher is not None:
            watcher.stop()
        if server is not None:
            server.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ports", type=int, default=500)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--backends", nargs="+", default=["fake", "ovn"])
    args = parser.parse_args()
    for backend in args.backends:
        for threads in args.threads:
            r = run(backend, args.ports, threads)
            line = (
                f"{r['backend']:4} threads={r['threads']:2} ports={r['ports']}  {r['ports_per_s']:6.1f} ports/s  "
                f"API p50 {r['api_p50_ms']:6.1f} ms p95 {r['api_p95_ms']:6.1f} ms"
            )
            if "nb_p50_ms" in r:
                line += (
                    f"  create->NB row p50 {r['nb_p50_ms']:6.1f} ms p95 {r['nb_p95_ms']:6.1f} ms "
                    f"max {r['nb_max_ms']:6.1f} ms  full resync ({r['ports']}+ ports) {r['resync_ms']:6.0f} ms"
                )
            print(line, flush=True)


if __name__ == "__main__":
    main()
