"""What the real-guest benchmarks share: timed boots through the compute API, and a throwaway test bed.

``boot_latency.py`` (all-in-one ``stratus serve``), ``testbed_boot.py`` and ``cross_host_throughput.py``
(``stratus testbed up``) import it; scripts in ``benchmarks/`` run as files, so it is imported by module name.
"""

from __future__ import annotations

import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stratus.cli.testbed_plan import DEFAULT_ROOT, Plan, load_plan, new_id  # noqa: E402

MARKER = "STRATUS-TESTVM-BOOT"
LEASE = re.compile(r"^STRATUS-TESTVM-IP iface=eth0 addr=\S+", re.MULTILINE)
STRATUS = Path(sys.executable).parent / "stratus"
OPENSTACK = Path(sys.executable).parent / "openstack"
MICROVERSION = {"OpenStack-API-Version": "compute 2.37"}
OUTAGE = 120.0
"""How long a request is retried while the machine's PostgreSQL or RabbitMQ restarts (shared machine)."""
TRANSIENT = ("HTTP 503", "Service Unavailable", "Unable to establish connection")


def machine_context() -> str:
    """Cores, CPU model, hardware virtualisation and load: the figures mean little without them."""
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.MULTILINE)
    kvm = "KVM possible" if re.search(r"\b(vmx|svm)\b", cpuinfo) else "no vmx/svm: guests run under QEMU TCG"
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return f"{os.cpu_count()} cores ({model.group(1) if model else '?'}), {kvm}; load average {load}"


def project_token(auth_url: str, password: str, *, user: str = "admin", project: str = "admin") -> tuple[str, str]:
    """(token, project id) of ``user`` scoped to ``project``, both in the Default domain."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": user, "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"name": "Default"}}}}}  # fmt: skip
    deadline = time.monotonic() + OUTAGE
    while True:  # PostgreSQL or RabbitMQ may be restarting (another engineer's fault tests): wait, bounded
        try:
            resp = httpx.post(f"{auth_url.rstrip('/')}/auth/tokens", json=body, timeout=30)
            if resp.status_code < 500:
                break
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            break
        time.sleep(2)  # waiting out a restart of the machine's PostgreSQL / RabbitMQ, bounded
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"], resp.json()["token"]["project"]["id"]


def console(api: httpx.Client, server_id: str) -> str:
    resp = api.post(f"/servers/{server_id}/action", json={"os-getConsoleOutput": {}})
    return str(resp.json().get("output", "")) if resp.status_code == 200 else ""


def boot_one(
    api: httpx.Client,
    image_id: str,
    flavor_id: str,
    name: str,
    *,
    networks: str | list[dict[str, str]] = "none",
    availability_zone: str | None = None,
    timeout: float = 240,
) -> dict[str, Any]:
    """POST one server and time, from just before the POST: ACTIVE (polled at 0.1 s), the boot marker and,
    with a network, the DHCP lease line (console polled at 0.25 s). Raises if it goes to ERROR or times out."""
    t0 = time.monotonic()
    body: dict[str, Any] = {"name": name, "imageRef": image_id, "flavorRef": flavor_id, "networks": networks}
    if availability_zone:
        body["availability_zone"] = availability_zone
    resp = api.post("/servers", json={"server": body}, headers=MICROVERSION)
    resp.raise_for_status()
    sid = resp.json()["server"]["id"]
    out: dict[str, Any] = {"id": sid, "t0": t0}
    deadline = t0 + timeout
    while "active" not in out:
        server = api.get(f"/servers/{sid}").json()["server"]
        if server["status"] == "ACTIVE":
            out["active"] = time.monotonic() - t0
            out["host"] = server.get("OS-EXT-SRV-ATTR:host", "")
        elif server["status"] == "ERROR":
            raise RuntimeError(f"{name} went to ERROR: {server.get('fault')}")
        elif time.monotonic() > deadline:
            raise RuntimeError(f"{name} not ACTIVE after {timeout:.0f} s (status {server['status']})")
        else:
            time.sleep(0.1)  # polling the API, bounded by the deadline
    want_lease = networks != "none"
    while "marker" not in out or (want_lease and "lease" not in out):
        text = console(api, sid)
        now = time.monotonic() - t0
        if MARKER in text:
            out.setdefault("marker", now)
        if want_lease and LEASE.search(text):
            out.setdefault("lease", now)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name}: no {'lease' if 'marker' in out else 'boot marker'} after {timeout:.0f} s")
        if "marker" not in out or (want_lease and "lease" not in out):
            time.sleep(0.25)  # polling the console, bounded by the deadline
    return out


def boot_round(
    api: httpx.Client,
    image_id: str,
    flavor_id: str,
    count: int,
    prefix: str,
    *,
    networks: str | list[dict[str, str]] = "none",
    zones: list[str | None] | None = None,
) -> list[dict[str, Any]]:
    """``count`` boots at once (one thread each); server i goes to ``zones[i % len(zones)]``."""
    zones = zones or [None]
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(boot_one, api, image_id, flavor_id, f"{prefix}-{i}", networks=networks,
                               availability_zone=zones[i % len(zones)]) for i in range(count)]  # fmt: skip
        return [f.result() for f in futures]


def delete_servers(api: httpx.Client, ids: list[str], timeout: float = 120) -> None:
    """DELETE each server and wait (bounded) until all are gone, so the next round starts on idle hosts."""
    for sid in ids:
        api.delete(f"/servers/{sid}")
    deadline = time.monotonic() + timeout
    while any(api.get(f"/servers/{sid}").status_code != 404 for sid in ids):
        if time.monotonic() > deadline:
            print(f"  (servers still not deleted after {timeout:.0f} s)")
            return
        time.sleep(0.2)  # waiting for deletes, bounded


def medians(results: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, float]:
    return {k: statistics.median(float(r[k]) for r in results) for k in keys if all(k in r for r in results)}


def cell(value: float | None, width: int, fmt: str = ".2f") -> str:
    return f"{value:>{width}{fmt}}" if value is not None else f"{'-':>{width}}"


# --- a test bed made (or borrowed) for one benchmark run


class TestBed:
    """A test bed's plan and admin credentials, with the openstack CLI and API clients against it."""

    def __init__(self, plan: Plan, owned: bool):
        self.plan = plan
        self.owned = owned
        self.clouds = plan.directory / "clouds.yaml"
        import yaml

        clouds = yaml.safe_load(self.clouds.read_text())["clouds"]
        self.admin_password = str(clouds["stratus"]["auth"]["password"])
        self.auth_url = str(clouds["stratus"]["auth"]["auth_url"])

    @property
    def hosts(self) -> list[str]:
        return [h.name for h in self.plan.hosts]

    def run(self, *args: str, admin_in_demo: bool = False, cloud: str | None = None) -> str:
        """``openstack ...`` as the demo user, as the admin scoped to the demo project, or as ``cloud``."""
        if admin_in_demo:
            scope = ["--os-cloud", "stratus", "--os-project-name", "demo"]
        else:
            scope = ["--os-cloud", cloud or "stratus-demo"]
        env = {**_env(), "OS_CLIENT_CONFIG_FILE": str(self.clouds)}
        cmd = [str(OPENSTACK), *scope, *args]
        deadline = time.monotonic() + OUTAGE
        while True:
            done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
            transient = any(t in done.stderr for t in TRANSIENT)
            if done.returncode == 0 or not transient or time.monotonic() > deadline:
                break
            time.sleep(2)  # a 503 while the machine's PostgreSQL / RabbitMQ restarts: retry, bounded
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr}{done.stdout}")
        return done.stdout

    def osc(self, *args: str, admin_in_demo: bool = False, cloud: str | None = None) -> Any:
        return json.loads(self.run(*args, "-f", "json", admin_in_demo=admin_in_demo, cloud=cloud))

    def grant_admin_in_demo(self) -> None:
        """Host targeting (``--availability-zone nova:<host>``) and port binding are admin-only, as upstream."""
        self.run("role", "add", "--user", "admin", "--project", "demo", "admin", cloud="stratus")

    def compute(self) -> httpx.Client:
        """The compute API with an admin token scoped to the demo project."""
        tok, _ = project_token(self.auth_url, self.admin_password, project="demo")
        return httpx.Client(base_url=self.plan.url("compute", "/v2.1"), headers={"X-Auth-Token": tok}, timeout=60)

    def image_id(self, name: str = "testvm") -> str:
        tok, _ = project_token(self.auth_url, self.admin_password, project="demo")
        resp = httpx.get(self.plan.url("image", f"/v2/images?name={name}"), headers={"X-Auth-Token": tok}, timeout=30)
        resp.raise_for_status()
        return str(resp.json()["images"][0]["id"])


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("STRATUS_", "OS_"))}


def _down(root: Path, testbed_id: str) -> None:
    """``testbed down``; Ctrl-C and SIGTERM are ignored meanwhile, so they cannot leave half a test bed behind."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN), signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        t0 = time.monotonic()
        done = subprocess.run([str(STRATUS), "testbed", "down", "--state-dir", str(root), "--id", testbed_id],
                              env=_env(), capture_output=True, text=True, timeout=600)  # fmt: skip
        status = "done" if done.returncode == 0 else f"FAILED ({done.returncode}):\n{done.stdout}{done.stderr}"
        print(f"testbed down {testbed_id}: {status} in {time.monotonic() - t0:.0f} s", flush=True)
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


def _sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def interrupt_on_sigterm() -> None:
    """SIGTERM unwinds like Ctrl-C, so every ``finally`` (test bed down, all-in-one cloud stop) still runs."""
    signal.signal(signal.SIGTERM, _sigterm)


def run_cleanly(main: Callable[[], None]) -> None:
    """Run a benchmark's ``main``; Ctrl-C (or SIGTERM, see above) ends it with one line, its cleanup done."""
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("interrupted (what this run made has been removed)")


@contextmanager
def testbed(hosts: int, state_dir: Path | None, testbed_id: str | None) -> Iterator[TestBed]:
    """An existing test bed (``testbed_id`` given: left running) or a new one, always taken down after use,
    also on an error, Ctrl-C or SIGTERM."""
    root = state_dir or DEFAULT_ROOT
    if testbed_id:
        yield TestBed(load_plan(root, testbed_id), owned=False)
        return
    if os.geteuid() != 0:
        raise SystemExit("needs root (stratus testbed up: namespaces, OVS, libvirt)")
    tid = new_id()
    previous = signal.signal(signal.SIGTERM, _sigterm)
    try:
        t0 = time.monotonic()
        print(f"testbed up --hosts {hosts} (id {tid}, state dir {root}) ...", flush=True)
        up = subprocess.run([str(STRATUS), "testbed", "up", "--hosts", str(hosts), "--state-dir", str(root),
                             "--id", tid], env=_env(), capture_output=True, text=True, timeout=900)  # fmt: skip
        if up.returncode != 0:
            raise RuntimeError(f"testbed up failed:\n{up.stdout}\n{up.stderr}")
        print(f"testbed up: {time.monotonic() - t0:.0f} s", flush=True)
        yield TestBed(load_plan(root, tid), owned=True)
    finally:
        if (root / tid).exists():
            _down(root, tid)
        signal.signal(signal.SIGTERM, previous)
