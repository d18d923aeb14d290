"""Port creation throughput of any Networking v2.0 (Neutron) API, and port up-latency on an OVN chassis.

    .venv/bin/python benchmarks/network_ports.py --auth-url http://127.0.0.1:5000 --user admin \
        --password ... --project admin [--ports 500] [--concurrency 1 8] \
        [--ovs-db unix:/var/lib/stratus/ovs/db.sock --bound 20]

Makes one network with a /22 subnet, then for each concurrency creates ``--ports`` ports on it
(each client thread has its own HTTP connection) and prints ports/s and p50/p99 create latency,
then deletes them (delete rate printed too). The caller's port quota is lifted for the run when the
caller may (admin) and put back afterwards. Point it at upstream Neutron with the same arguments to
compare.

Up-latency (optional): with ``--ovs-db`` naming the OVS database of a host running ovn-controller
(a chassis; its ``system-id`` is the binding host), ``--bound`` ports are created with
``binding:host_id`` set to that chassis and bound by adding an OVS interface with
``external_ids:iface-id=<port id>`` to br-int, as a hypervisor's VIF plugging does; the time from
just before the create call until the API shows the port ACTIVE is printed. Without a chassis the
part is skipped and the reason printed. Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

CIDR = "10.61.0.0/22"


def authenticate(args: argparse.Namespace) -> tuple[str, str, str]:
    """(token, project id, network URL) from a password, project-scoped Keystone v3 token."""
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": args.user, "domain": {"name": args.domain}, "password": args.password}},
            },
            "scope": {"project": {"name": args.project, "domain": {"name": args.domain}}},
        }
    }
    base = args.auth_url.rstrip("/").removesuffix("/v3")
    resp = httpx.post(f"{base}/v3/auth/tokens", json=body, timeout=60)
    resp.raise_for_status()
    token = resp.headers["X-Subject-Token"]
    doc = resp.json()["token"]
    url = args.network_url
    if not url:
        for entry in doc.get("catalog", []):
            if entry["type"] == "network":
                url = next((e["url"] for e in entry["endpoints"] if e["interface"] == args.interface), None)
        if not url:
            raise SystemExit("no network endpoint in the catalog; give --network-url")
    return token, doc["project"]["id"], url.rstrip("/")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def run_parallel(
    url: str, token: str, items: list[Any], concurrency: int, fn: Callable[[httpx.Client, Any], Any]
) -> tuple[float, list[float], list[Any]]:
    """Run ``fn(client, item)`` for every item on ``concurrency`` threads: (wall seconds, latencies, results)."""
    local = threading.local()
    clients: list[httpx.Client] = []
    lock = threading.Lock()

    def one(item: Any) -> tuple[float, Any]:
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(base_url=url, headers={"X-Auth-Token": token}, timeout=120)
            with lock:
                clients.append(client)
        start = time.perf_counter()
        result = fn(client, item)
        return time.perf_counter() - start, result

    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(concurrency) as pool:
            done = list(pool.map(one, items))
    finally:
        for client in clients:
            client.close()
    return time.perf_counter() - started, [d[0] for d in done], [d[1] for d in done]


def create_port(network_id: str, extra: dict[str, Any] | None = None) -> Callable[[httpx.Client, int], str]:
    def create(client: httpx.Client, n: int) -> str:
        body = {"port": {"network_id": network_id, "name": f"bench-{n}", **(extra or {})}}
        resp = client.post("/v2.0/ports", json=body)
        resp.raise_for_status()
        return str(resp.json()["port"]["id"])

    return create


def delete_port(client: httpx.Client, port_id: str) -> None:
    resp = client.delete(f"/v2.0/ports/{port_id}")
    if resp.status_code not in (204, 404):
        resp.raise_for_status()


class QuotaLift:
    """Lift the project's port quota for the run (admin only) and put the old value back."""

    def __init__(self, api: httpx.Client, project_id: str):
        self.api, self.project_id = api, project_id
        self.old: int | None = None

    def __enter__(self) -> QuotaLift:
        resp = self.api.get(f"/v2.0/quotas/{self.project_id}")
        if resp.status_code == 200:
            old = resp.json()["quota"]["port"]
            if self.api.put(f"/v2.0/quotas/{self.project_id}", json={"quota": {"port": -1}}).status_code == 200:
                self.old = old
        if self.old is None:
            print("note: could not lift the port quota (not admin?); the run is bound by it")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.old is not None:
            self.api.put(f"/v2.0/quotas/{self.project_id}", json={"quota": {"port": self.old}})


def throughput(url: str, token: str, network_id: str, ports: int, concurrency: int) -> None:
    wall, latencies, ids = run_parallel(url, token, list(range(ports)), concurrency, create_port(network_id))
    print(
        f"create  c={concurrency:<3} {ports} ports {ports / wall:8.1f} ports/s   "
        f"p50 {statistics.median(latencies) * 1000:7.1f} ms   p99 {percentile(latencies, 0.99) * 1000:7.1f} ms",
        flush=True,
    )
    wall, latencies, _ = run_parallel(url, token, ids, concurrency, delete_port)
    print(
        f"delete  c={concurrency:<3} {ports} ports {ports / wall:8.1f} ports/s   "
        f"p50 {statistics.median(latencies) * 1000:7.1f} ms   p99 {percentile(latencies, 0.99) * 1000:7.1f} ms",
        flush=True,
    )


# up-latency on a chassis


def vsctl(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["ovs-vsctl", f"--db={db}", "--timeout=10", *args], capture_output=True, text=True)


def chassis_of(db: str | None) -> tuple[str | None, str]:
    """(chassis name, "") when ``db`` is the OVS of an OVN chassis with br-int, else (None, why not)."""
    if not db:
        return None, "no chassis given (--ovs-db names the OVS database of a host running ovn-controller)"
    try:
        probe = vsctl(db, "br-exists", "br-int")
    except FileNotFoundError:
        return None, "ovs-vsctl is not installed here"
    if probe.returncode != 0:
        return None, f"{db} has no br-int or does not answer ({probe.stderr.strip() or 'exit 2'})"
    system_id = vsctl(db, "get", "Open_vSwitch", ".", "external_ids:system-id")
    name = system_id.stdout.strip().strip('"')
    if system_id.returncode != 0 or not name:
        return None, f"{db} has no external_ids:system-id, so no ovn-controller chassis runs there"
    return name, ""


def up_latency(url: str, token: str, network_id: str, db: str, chassis: str, count: int, timeout: float) -> None:
    """Create ``count`` ports bound to ``chassis``, plug each into br-int, time create -> ACTIVE."""
    api = httpx.Client(base_url=url, headers={"X-Auth-Token": token}, timeout=60)
    devices: list[str] = []
    port_ids: list[str] = []
    latencies: list[float] = []
    try:
        for n in range(count):
            t0 = time.perf_counter()
            port_id = create_port(network_id, {"binding:host_id": chassis})(api, n)
            port_ids.append(port_id)
            dev = f"bnch{uuid.uuid4().hex[:8]}"
            added = vsctl(
                db,
                "add-port",
                "br-int",
                dev,
                "--",
                "set",
                "Interface",
                dev,
                "type=internal",
                f"external_ids:iface-id={port_id}",
            )
            if added.returncode != 0:
                raise SystemExit(f"ovs-vsctl add-port failed: {added.stderr.strip()}")
            devices.append(dev)
            deadline = time.monotonic() + timeout
            status = ""
            while time.monotonic() < deadline:  # poll the API with a deadline, as a client would
                status = api.get(f"/v2.0/ports/{port_id}").json()["port"]["status"]
                if status == "ACTIVE":
                    latencies.append(time.perf_counter() - t0)
                    break
                time.sleep(0.01)
            else:
                print(f"port {port_id} still {status} after {timeout:.0f} s")
        if latencies:
            print(
                f"up      {len(latencies)}/{count} bound ports on {chassis}: create -> ACTIVE "
                f"p50 {statistics.median(latencies) * 1000:7.1f} ms   p99 {percentile(latencies, 0.99) * 1000:7.1f} ms"
                f"   max {max(latencies) * 1000:7.1f} ms",
                flush=True,
            )
    finally:
        for dev in devices:
            vsctl(db, "--if-exists", "del-port", "br-int", dev)
        for port_id in port_ids:
            delete_port(api, port_id)
        api.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--auth-url", default="http://127.0.0.1:5000")
    parser.add_argument("--user", default="admin")
    parser.add_argument("--password", required=True)
    parser.add_argument("--project", default="admin")
    parser.add_argument("--domain", default="Default")
    parser.add_argument("--interface", default="public", help="catalog interface of the network endpoint")
    parser.add_argument("--network-url", help="Networking API root (default: from the catalog)")
    parser.add_argument("--ports", type=int, default=500)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--ovs-db", help="OVS database of an OVN chassis, e.g. unix:<state_dir>/ovs/db.sock")
    parser.add_argument("--bound", type=int, default=20, help="ports to bind for the up-latency part")
    parser.add_argument("--up-timeout", type=float, default=30.0, help="seconds a bound port may take to be ACTIVE")
    args = parser.parse_args()
    token, project_id, url = authenticate(args)
    api = httpx.Client(base_url=url, headers={"X-Auth-Token": token}, timeout=60)
    net_id = ""
    try:
        net = api.post("/v2.0/networks", json={"network": {"name": f"bench-ports-{uuid.uuid4().hex[:6]}"}})
        net.raise_for_status()
        net_id = net.json()["network"]["id"]
        sub = api.post("/v2.0/subnets", json={"subnet": {"network_id": net_id, "cidr": CIDR, "ip_version": 4}})
        sub.raise_for_status()
        print(f"network API {url}, network {net_id} ({CIDR})")
        with QuotaLift(api, project_id):
            for concurrency in args.concurrency:
                throughput(url, token, net_id, args.ports, concurrency)
            chassis, why = chassis_of(args.ovs_db)
            if chassis is None:
                print(f"up-latency skipped: {why}")
            else:
                up_latency(url, token, net_id, args.ovs_db, chassis, args.bound, args.up_timeout)
    finally:
        if net_id:
            for port in api.get("/v2.0/ports", params={"network_id": net_id}).json().get("ports", []):
                if not port["device_owner"].startswith("network:"):
                    delete_port(api, port["id"])
            api.delete(f"/v2.0/networks/{net_id}")
        api.close()


if __name__ == "__main__":
    main()
