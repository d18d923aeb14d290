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
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from _boot_common import MARKER, boot_round, cell, delete_servers, machine_context, medians, project_token  # noqa: E402

from tests.conftest import stop_process, stratus_env, write_config  # noqa: E402
from tests.e2e.conftest import LibvirtCloud, dump_toml  # noqa: E402

HEADER = f"{'boots':>5} {'POST->ACTIVE s':>15} {'POST->marker s':>15} {'libvirt/QEMU s':>15} {'control plane':>14}"


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


def run(counts: list[int], rounds: int) -> tuple[list[dict[str, Any]], list[float]]:
    """Boot rounds through a throwaway all-in-one cloud (one printed line per round), then the bare QEMU
    boots; returns the per-round medians (keys count, round, active, marker, hv, cp) and the bare times."""
    import libvirt

    from stratus.cli.hostdaemons import ensure_libvirt, stop_libvirt

    base = Path(tempfile.mkdtemp(prefix="stratus-bench-boot-"))
    state = base / "state"
    config = write_config(base, db_prefix="stratus_bench_boot")
    uri = ensure_libvirt(state, private=True)
    cloud: LibvirtCloud | None = None
    rows: list[dict[str, Any]] = []
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
        tok, _project = project_token(cloud.auth_url, cloud.admin_password)
        api = httpx.Client(base_url=cloud.urls["compute"], headers={"X-Auth-Token": tok}, timeout=60)
        images = httpx.get(f"{cloud.urls['image']}/v2/images?name=testvm", headers={"X-Auth-Token": tok}).json()
        image_id = images["images"][0]["id"]
        flavor = api.post("/flavors", json={"flavor": {"name": "bench.tiny", "ram": 256, "vcpus": 1, "disk": 1}})
        flavor_id = flavor.json()["flavor"]["id"]
        image_file = state / "testvm" / "testvm.qcow2"
        print(f"all-in-one stratus serve (libvirt, 1 host); {machine_context()}", flush=True)
        print(HEADER, flush=True)
        for count in counts:
            for rnd in range(rounds):
                results = boot_round(api, image_id, flavor_id, count, f"bench-{count}-{rnd}")
                for r in results:
                    sid, t0 = str(r["id"]), float(r["t0"])
                    defined = events.times.get((sid, libvirt.VIR_DOMAIN_EVENT_DEFINED), t0)
                    started = events.times.get((sid, libvirt.VIR_DOMAIN_EVENT_STARTED), defined)
                    r["hv"] = started - defined
                    r["cp"] = 1.0 - r["hv"] / float(r["active"])
                med = medians(results, ("active", "marker", "hv", "cp"))
                rows.append({"count": count, "round": rnd + 1, **med})
                print(f"{count:>5} {cell(med['active'], 15)} {cell(med['marker'], 15)} {cell(med['hv'], 15)} "
                      f"{100 * med['cp']:>13.0f}%   (round {rnd + 1}, medians of {count})", flush=True)  # fmt: skip
                delete_servers(api, [str(r["id"]) for r in results])
        bare = [bare_qemu(image_file) for _ in range(rounds)]
        print(f"bare qemu-system-x86_64 (TCG) start -> marker: {', '.join(f'{b:.2f}' for b in bare)} s", flush=True)
        return rows, bare
    finally:
        if cloud is not None and cloud.process is not None:
            stop_process(cloud.process)
        stop_libvirt(state)
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    run(args.counts, args.rounds)


if __name__ == "__main__":
    main()
