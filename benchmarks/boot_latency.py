"""Real-guest boot latency through the whole cloud, beside a bare QEMU boot of the same image.

    sudo .venv/bin/python benchmarks/boot_latency.py                 # 1 and 4 concurrent boots, 2 rounds each
    sudo .venv/bin/python benchmarks/boot_latency.py --counts 1 2 4 --rounds 3

Starts a throwaway ``stratus serve`` (libvirt driver, private libvirtd, as tests/e2e does), POSTs
``testvm`` servers (``--nic none``) from concurrent threads and measures, per server, from just before
the POST to: ACTIVE (polled at 0.1 s), the guest's ``STRATUS-TESTVM-BOOT`` console marker (polled
through os-getConsoleOutput at 0.25 s), and the libvirt lifecycle events DEFINED and STARTED (seen by
this process's own event listener). "libvirt/QEMU" is DEFINED -> STARTED (define + QEMU start);
the control plane is the rest of POST -> ACTIVE (API, scheduling, image cache, reporting back).
The bare line runs ``qemu-system-x86_64`` (TCG, same image, snapshot=on) and times start -> marker.
Figures are printed, never asserted. Needs root.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import stop_process, stratus_env, write_config  # noqa: E402
from tests.e2e.conftest import LibvirtCloud, dump_toml  # noqa: E402

MARKER = "STRATUS-TESTVM-BOOT"


class DomainEvents:
    """Wall-clock (monotonic) times of DEFINED and STARTED per domain uuid, from libvirt's own events."""

    def __init__(self, uri: str):
        import libvirt

        from stratus.compute.virt.libvirt.events import start_event_loop

        start_event_loop()
        self.times: dict[tuple[str, int], float] = {}
        self._conn = libvirt.open(uri)
        self._conn.setKeepAlive(5, 3)
        self._conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_event, None)

    def _on_event(self, conn: Any, dom: Any, event: int, detail: int, opaque: Any) -> None:
        self.times.setdefault((dom.UUIDString(), event), time.monotonic())


def token(cloud: LibvirtCloud) -> tuple[str, str]:
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "admin", "domain": {"name": "Default"}, "password": cloud.admin_password}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}}  # fmt: skip
    resp = httpx.post(f"{cloud.auth_url}/auth/tokens", json=body, timeout=30)
    resp.raise_for_status()
    return resp.headers["X-Subject-Token"], resp.json()["token"]["project"]["id"]


def boot_one(
    api: httpx.Client, image_id: str, flavor_id: str, name: str, timeout: float = 180
) -> dict[str, float | str]:
    t0 = time.monotonic()
    body = {"server": {"name": name, "imageRef": image_id, "flavorRef": flavor_id, "networks": "none"}}
    resp = api.post("/servers", json=body, headers={"OpenStack-API-Version": "compute 2.37"})
    resp.raise_for_status()
    sid = resp.json()["server"]["id"]
    out: dict[str, float | str] = {"id": sid, "t0": t0}
    deadline = t0 + timeout
    while "active" not in out and time.monotonic() < deadline:
        status = api.get(f"/servers/{sid}").json()["server"]["status"]
        if status == "ACTIVE":
            out["active"] = time.monotonic() - t0
        elif status == "ERROR":
            raise RuntimeError(f"{name} went to ERROR")
        else:
            time.sleep(0.1)  # polling the API, bounded by the deadline
    while "marker" not in out and time.monotonic() < deadline:
        text = api.post(f"/servers/{sid}/action", json={"os-getConsoleOutput": {}}).json().get("output", "")
        if MARKER in text:
            out["marker"] = time.monotonic() - t0
        else:
            time.sleep(0.25)  # polling the API, bounded by the deadline
    return out


def bare_qemu(image: Path) -> float:
    with tempfile.TemporaryDirectory(prefix="stratus-bench-bare-") as tmp:
        console = Path(tmp) / "console.log"
        cmd = ["qemu-system-x86_64", "-machine", "pc,accel=tcg", "-m", "256", "-smp", "1", "-nodefaults",
               "-display", "none", "-no-reboot", "-serial", f"file:{console}",
               "-drive", f"file={image},if=virtio,format=qcow2,snapshot=on"]  # fmt: skip
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while time.monotonic() - t0 < 120:
                if console.exists() and MARKER in console.read_text(errors="replace"):
                    return time.monotonic() - t0
                time.sleep(0.05)  # polling QEMU's console file, bounded
            raise RuntimeError("bare QEMU never printed the marker")
        finally:
            proc.kill()
            proc.wait()


def _medians(results: list[dict[str, Any]]) -> dict[str, float]:
    return {key: statistics.median(float(r[key]) for r in results) for key in ("active", "marker", "hv", "cp")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from stratus.cli.hostdaemons import ensure_libvirt, stop_libvirt

    base = Path(tempfile.mkdtemp(prefix="stratus-bench-boot-"))
    state = base / "state"
    config = write_config(base, db_prefix="stratus_bench_boot")
    uri = ensure_libvirt(state, private=True)
    cloud: LibvirtCloud | None = None
    try:
        settings = tomllib.loads(config.read_text())
        settings["compute"]["image_url"] = f"http://127.0.0.1:{settings['image']['port']}"
        settings["compute_agent"] = {"driver": "libvirt", "fake_hosts": 1, "libvirt_uri": uri}
        settings["compute_scheduler"] = {"ram_allocation_ratio": 1.0}
        config.write_text(dump_toml(settings))
        cloud = LibvirtCloud(
            base=base, config=config, env=stratus_env(config, base), process=None, log=base / "serve.log"
        )  # type: ignore[arg-type]
        cloud.start()
        events = DomainEvents(uri)
        tok, _project = token(cloud)
        api = httpx.Client(base_url=cloud.urls["compute"], headers={"X-Auth-Token": tok}, timeout=60)
        images = httpx.get(f"{cloud.urls['image']}/v2/images?name=testvm", headers={"X-Auth-Token": tok}).json()
        image_id = images["images"][0]["id"]
        flavor = api.post("/flavors", json={"flavor": {"name": "bench.tiny", "ram": 256, "vcpus": 1, "disk": 1}})
        flavor_id = flavor.json()["flavor"]["id"]
        image_file = state / "testvm" / "testvm.qcow2"
        print(f"host: {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores; "
              f"load {Path('/proc/loadavg').read_text().split()[:3]}")  # fmt: skip
        print(
            f"{'boots':>5} {'POST->ACTIVE s':>15} {'POST->marker s':>15} {'libvirt/QEMU s':>15} {'control plane':>14}"
        )
        for count in args.counts:
            for rnd in range(args.rounds):
                with ThreadPoolExecutor(count) as pool:
                    futures = [pool.submit(boot_one, api, image_id, flavor_id, f"bench-{count}-{rnd}-{i}")
                               for i in range(count)]  # fmt: skip
                    results = [f.result() for f in futures]
                import libvirt

                for r in results:
                    sid, t0 = str(r["id"]), float(r["t0"])
                    defined = events.times.get((sid, libvirt.VIR_DOMAIN_EVENT_DEFINED), t0)
                    started = events.times.get((sid, libvirt.VIR_DOMAIN_EVENT_STARTED), defined)
                    r["hv"] = started - defined
                    r["cp"] = 1.0 - r["hv"] / float(r["active"])

                med = _medians(results)
                print(f"{count:>5} {med['active']:>15.2f} {med['marker']:>15.2f} {med['hv']:>15.2f} "
                      f"{100 * med['cp']:>13.0f}%   (round {rnd + 1}, medians of {count})")  # fmt: skip
                for r in results:
                    api.delete(f"/servers/{r['id']}")
                deadline = time.monotonic() + 60
                while any(api.get(f"/servers/{r['id']}").status_code != 404 for r in results):
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.2)  # waiting for deletes, bounded
        bare = [bare_qemu(image_file) for _ in range(args.rounds)]
        print(f"bare qemu-system-x86_64 (TCG) start -> marker: {', '.join(f'{b:.2f}' for b in bare)} s")
    finally:
        if cloud is not None and cloud.process is not None:
            stop_process(cloud.process)
        stop_libvirt(state)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
