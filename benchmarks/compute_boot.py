"""Boot many servers over many fake hosts; report boots per second and request-to-ACTIVE latency.

    python benchmarks/compute_boot.py                                  # 1000 servers, 100 hosts, SQLite, memory://
    python benchmarks/compute_boot.py --db postgresql --bus amqp       # PostgreSQL + RabbitMQ on 127.0.0.1
    python benchmarks/compute_boot.py --via conductor                  # skip the HTTP API: rows + build_instances
    python benchmarks/compute_boot.py --rate 10                        # paced: latency without queueing

``--via api`` (default) runs the Compute API on a real HTTP port (uvicorn) beside an in-process image
service and POSTs /servers from ``--concurrency`` client threads; ``--via conductor`` writes the instance
rows as the API would and casts ``build_instances``. Either way the conductor, scheduler (claims in the
database) and ``--hosts`` fake-driver agents do the rest. Latency runs from just before the request to
the ``compute.instance.update`` notification that says ACTIVE. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from stratus.compute import models
from stratus.compute.messages import FlavorSpec, ImageSpec, RequestSpec
from stratus.compute.rpcapi import ConductorAPI
from stratus.compute.workers import ComputeWorkers
from stratus.core.api.auth import Authenticator, StaticValidator
from stratus.core.bus import Bus
from stratus.core.config import Config
from stratus.core.context import RequestContext
from stratus.core.db import Database, upgrade

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
AMQP = "amqp://guest:guest@127.0.0.1:5672//"
PROJECT = "b" * 32
ADMIN = RequestContext(
    user_id="bench-admin", project_id="a" * 32, roles=frozenset({"admin", "member", "reader"}), token="admin"
)
MEMBER = RequestContext(user_id="bench-user", project_id=PROJECT, roles=frozenset({"member", "reader"}), token="member")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def drop_pg(name: str) -> None:
    engine = sa.create_engine(PG.format(name="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    engine.dispose()


def make_config(args: argparse.Namespace, state: Path, port: int) -> Config:
    url = "sqlite:///{state_dir}/{service}.sqlite"
    if args.db == "postgresql":
        for service in ("compute", "image"):
            drop_pg(f"stratus_bench_{service}")
        url = PG.format(name="stratus_bench_{service}")
    unlimited = dict.fromkeys(("quota_instances", "quota_cores", "quota_ram"), -1)
    return Config(
        {
            "core": {"state_dir": str(state), "database_url": url, "bus_url": args.bus_url},
            "image": {"store": "fake"},
            "compute": {"port": port, "image_url": "http://image.bench", **unlimited},
            "compute_scheduler": {"conductor_workers": args.conductor_workers},
            "compute_agent": {
                "driver": "fake",
                "fake_hosts": args.hosts,
                "host_prefix": "bench-host-",
                "heartbeat_interval": 10.0,
            },
        },
        env={},
    )


class Clock:
    """Request and ACTIVE times per instance, fed by the callers and by the notification subscriber."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.active: dict[str, float] = {}
        self.errors: set[str] = set()
        self._lock = threading.Lock()
        self.changed = threading.Condition(self._lock)

    def on_event(self, event_type: str, payload: dict[str, Any]) -> None:
        now = time.perf_counter()
        with self._lock:
            uid = payload.get("instance_id", "")
            if payload.get("vm_state") == "active" and uid not in self.active:
                self.active[uid] = now
            elif payload.get("vm_state") == "error":
                self.errors.add(uid)
            self.changed.notify_all()

    def wait_all(self, uuids: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not all(u in self.active or u in self.errors for u in uuids):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SystemExit(f"timed out: {len(self.active)} active, {len(self.errors)} errors of {len(uuids)}")
                self.changed.wait(left)


def boot_via_api(args: argparse.Namespace, config: Config, bus: Bus, clock: Clock) -> list[str]:
    from fastapi.testclient import TestClient

    from stratus.compute.service import ComputeService
    from stratus.core.api.server import ApiServer
    from stratus.image.service import ImageService

    auth = Authenticator(StaticValidator({"admin": ADMIN, "member": MEMBER}))
    image_service = ImageService(config, authenticator=auth)
    image_client = TestClient(image_service.app, raise_server_exceptions=False)
    image = image_client.post(
        "/v2/images",
        json={"name": "bench", "disk_format": "raw", "container_format": "bare", "visibility": "public"},
        headers={"X-Auth-Token": "admin"},
    ).json()
    image_client.put(f"/v2/images/{image['id']}/file", content=b"\0" * 1024,
                     headers={"X-Auth-Token": "admin", "Content-Type": "application/octet-stream"})  # fmt: skip
    transport = _ClientTransport(image_client)
    service = ComputeService(config, bus, authenticator=auth, image_transport=transport)
    workers = ComputeWorkers(service, bus, service.db, image_source_factory=lambda ctx: _NoImages())
    workers.start()
    port = service.conf.port
    server = ApiServer("compute", service.app, "127.0.0.1", port, threads=max(40, args.concurrency * 2))
    server.start()
    base = f"http://127.0.0.1:{port}/v2.1"
    try:
        with httpx.Client(base_url=base, timeout=60, limits=httpx.Limits(max_connections=args.concurrency)) as http:
            body = {"flavor": {"name": "bench", "ram": 512, "vcpus": 1, "disk": 1}}
            flavor = http.post("/flavors", json=body, headers={"X-Auth-Token": "admin"}).json()["flavor"]["id"]

            def boot(i: int) -> str:
                server = {"name": f"bench-{i}", "imageRef": image["id"], "flavorRef": flavor, "networks": "none"}
                server_body = {"server": server}
                t0 = time.perf_counter()
                headers = {"X-Auth-Token": "member", "OpenStack-API-Version": "compute 2.37"}
                resp = http.post("/servers", json=server_body, headers=headers)
                if resp.status_code != 202:
                    raise SystemExit(f"POST /servers: {resp.status_code} {resp.text}")
                uid = str(resp.json()["server"]["id"])
                with clock._lock:
                    clock.sent[uid] = t0
                return uid

            uuids = _run_requests(args, boot, clock)
            measure_listing(http, args.list_requests)
    finally:
        server.stop()
        workers.stop()
        service.close()
        image_client.close()
        image_service.close()
    return uuids


def measure_listing(http: httpx.Client, requests: int) -> None:
    """Latency of listing every server of the project (1000 by default), summary and detail."""
    headers = {"X-Auth-Token": "member", "OpenStack-API-Version": "compute 2.37"}
    for path in ("/servers", "/servers/detail"):
        timings, count = [], 0
        for _ in range(requests):
            t0 = time.perf_counter()
            resp = http.get(path, params={"limit": 1000}, headers=headers)
            timings.append(time.perf_counter() - t0)
            resp.raise_for_status()
            count = len(resp.json()["servers"])
        timings.sort()
        p99 = timings[max(0, int(len(timings) * 0.99) - 1)]
        p50 = statistics.median(timings)
        print(f"  GET {path} ({count} servers): p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms")


def boot_via_conductor(args: argparse.Namespace, config: Config, bus: Bus, clock: Clock) -> list[str]:
    db = Database(config.database_url("compute"))
    upgrade(db, "stratus.compute:migrations")
    workers = ComputeWorkers(config, bus, db, image_source_factory=lambda ctx: _NoImages())
    workers.start()
    conductor = ConductorAPI(bus)
    fl = FlavorSpec(flavorid="bench", name="bench", vcpus=1, memory_mb=512, root_gb=1)

    def boot(i: int) -> str:
        uid = str(uuid.uuid4())
        t0 = time.perf_counter()
        with db.session() as s:
            s.add(models.Instance(uuid=uid, display_name=f"bench-{i}", project_id=PROJECT, user_id=MEMBER.user_id,
                                  flavor=fl.to_dict(), vcpus=1, memory_mb=512, root_gb=1, task_state="scheduling",
                                  requested_networks="none"))  # fmt: skip
        with clock._lock:
            clock.sent[uid] = t0
        spec = RequestSpec(instance_uuids=[uid], project_id=PROJECT, user_id=MEMBER.user_id, flavor=fl,
                           image=ImageSpec(id="bench"))  # fmt: skip
        conductor.build_instances({"request_id": f"req-{uid}", "auth_token": "member"}, spec)
        return uid

    try:
        return _run_requests(args, boot, clock)
    finally:
        workers.stop()
        db.dispose()


def _run_requests(args: argparse.Namespace, boot: Any, clock: Clock) -> list[str]:
    start = time.perf_counter()

    def paced(i: int) -> str:
        if args.rate > 0:  # open-loop pacing: request i goes out at start + i / rate
            time.sleep(max(0.0, start + i / args.rate - time.perf_counter()))
        return str(boot(i))

    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        uuids = list(pool.map(paced, range(args.servers)))
    sent = time.perf_counter() - start
    clock.wait_all(uuids, args.timeout)
    total = max(clock.active.values(), default=start) - start
    latencies = sorted(clock.active[u] - clock.sent[u] for u in uuids if u in clock.active)
    rate = f"{args.rate:g}/s" if args.rate > 0 else "all at once"
    print(f"{args.servers} servers over {args.hosts} fake hosts via {args.via}, db={args.db}, bus={args.bus}, {rate}")
    print(f"  requests sent in {sent:.2f} s ({args.servers / sent:.0f}/s), all settled in {total:.2f} s")
    print(f"  ACTIVE: {len(latencies)}  ERROR: {len(clock.errors)}")
    if latencies:
        print(f"  boots per second: {len(latencies) / total:.1f}")
        print(f"  request -> ACTIVE: p50 {statistics.median(latencies) * 1000:.0f} ms, "
              f"p99 {latencies[int(len(latencies) * 0.99) - 1] * 1000:.0f} ms, "
              f"max {latencies[-1] * 1000:.0f} ms")  # fmt: skip
    return uuids


class _NoImages:
    def download(self, image_id: str, dest: Path) -> int:
        return 0

    def upload(self, image_id: str, src: Path) -> None:
        return None


class _ClientTransport(httpx.BaseTransport):
    def __init__(self, client: Any):
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.client.request(
            request.method, request.url.raw_path.decode(), headers=dict(request.headers), content=request.read()
        )
        return httpx.Response(resp.status_code, headers=resp.headers, content=resp.content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--hosts", type=int, default=100)
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--bus", choices=["memory", "amqp"], default="memory")
    parser.add_argument("--via", choices=["api", "conductor"], default="api")
    parser.add_argument("--concurrency", type=int, default=16, help="client threads sending requests")
    parser.add_argument("--conductor-workers", type=int, default=8)
    parser.add_argument("--rate", type=float, default=0.0, help="requests per second (0: as fast as possible)")
    parser.add_argument("--timeout", type=float, default=600.0)
    parser.add_argument("--list-requests", type=int, default=20, help="timed list calls after the boots (api only)")
    args = parser.parse_args()
    args.bus_url = AMQP if args.bus == "amqp" else "memory://"
    with tempfile.TemporaryDirectory(prefix="stratus-bench-") as state:
        config = make_config(args, Path(state), free_port())
        bus = Bus(args.bus_url, name=f"bench-{uuid.uuid4().hex[:8]}", default_timeout=60)
        clock = Clock()
        bus.subscribe("compute.instance.update", clock.on_event)
        try:
            (boot_via_api if args.via == "api" else boot_via_conductor)(args, config, bus, clock)
        finally:
            bus.close()


if __name__ == "__main__":
    main()
