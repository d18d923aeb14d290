"""Real-guest boot latency on the multi-host test bed (PostgreSQL + RabbitMQ), beside the all-in-one figures.

    sudo .venv/bin/python benchmarks/testbed_boot.py                     # 1 and 4 boots, 2 rounds, 2 hosts
    sudo .venv/bin/python benchmarks/testbed_boot.py --counts 1 2 --rounds 3 --skip-all-in-one
    sudo .venv/bin/python benchmarks/testbed_boot.py --state-dir /tmp/tb --id stb1a2b   # an existing test bed

First runs ``boot_latency.py``'s all-in-one rounds with the same counts (unless ``--skip-all-in-one``), then
``stratus testbed up --hosts N`` (or the given test bed, left running). On the test bed, as the admin scoped
to the demo project: a network + subnet and the same 256 MiB flavor; ``testvm`` servers are POSTed from
concurrent threads, pinned round-robin to the hosts with ``--availability-zone nova:<host>`` (or left to the
scheduler with ``--no-pin``), and timed per server from just before the POST to ACTIVE, to the guest's
``STRATUS-TESTVM-BOOT`` console marker, and to its DHCP lease line (OVN DHCP across the test bed's data
plane). Then one table of medians side by side. A test bed it made is taken down at the end, also on an
error or Ctrl-C. Figures are printed, never asserted. Needs root.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _boot_common import (  # noqa: E402
    TestBed,
    boot_round,
    cell,
    delete_servers,
    interrupt_on_sigterm,
    machine_context,
    medians,
    run_cleanly,
    testbed,
)

CIDR = "10.79.0.0/24"


def _find_or_create(tb: TestBed, kind: str, name: str, *create: str, admin_in_demo: bool = False) -> str:
    """The id of ``kind`` ``name``, created with ``create`` options when missing (a borrowed test bed keeps them)."""
    found = [r for r in tb.osc(kind, "list", admin_in_demo=admin_in_demo) if r["Name"] == name]
    if found:
        return str(found[0]["ID"])
    return str(tb.osc(kind, "create", *create, name, admin_in_demo=admin_in_demo)["id"])


def run_testbed(tb: TestBed, counts: list[int], rounds: int, pin: bool) -> list[dict[str, Any]]:
    tb.grant_admin_in_demo()
    net = _find_or_create(tb, "network", "bench-boot-net")
    _find_or_create(tb, "subnet", "bench-boot-subnet", "--network", net, "--subnet-range", CIDR)
    flavor = _find_or_create(tb, "flavor", "bench.tiny", "--ram", "256", "--vcpus", "1", "--disk", "1",
                             admin_in_demo=True)  # fmt: skip
    api = tb.compute()
    image = tb.image_id()
    zones: list[str | None] = [f"nova:{h}" for h in tb.hosts] if pin else [None]
    placement = f"pinned round-robin to {', '.join(tb.hosts)}" if pin else "placed by the scheduler"
    print(f"test bed {tb.plan.id}: {len(tb.hosts)} hosts, servers {placement}; {machine_context()}", flush=True)
    print(f"{'boots':>5} {'POST->ACTIVE s':>15} {'POST->marker s':>15} {'POST->lease s':>14}   hosts", flush=True)
    rows = []
    for count in counts:
        for rnd in range(rounds):
            results: list[dict[str, Any]] = []
            try:
                results = boot_round(api, image, flavor, count, f"tbboot-{count}-{rnd}",
                                     networks=[{"uuid": net}], zones=zones)  # fmt: skip
            finally:
                mine = [s["id"] for s in api.get("/servers").json()["servers"] if s["name"].startswith("tbboot-")]
                delete_servers(api, mine)
            med = medians(results, ("active", "marker", "lease"))
            rows.append({"count": count, "round": rnd + 1, **med})
            spread = ", ".join(sorted(str(r.get("host", "?")).removeprefix(f"{tb.plan.id}-") for r in results))
            print(f"{count:>5} {cell(med['active'], 15)} {cell(med['marker'], 15)} {cell(med.get('lease'), 14)}   "
                  f"{spread}   (round {rnd + 1}, medians of {count}; load "
                  f"{Path('/proc/loadavg').read_text().split()[0]})", flush=True)  # fmt: skip
    return rows


def _mean_of(rows: list[dict[str, Any]], count: int, key: str) -> float | None:
    values = [r[key] for r in rows if r["count"] == count and key in r]
    return statistics.mean(values) if values else None


def summary(counts: list[int], aio: list[dict[str, Any]], tb: list[dict[str, Any]], hosts: int) -> None:
    print()
    print("Mean over rounds of the per-round medians (s):")
    print(f"{'boots':>5} | {'all-in-one ACTIVE':>17} {'marker':>7} | {f'test bed ({hosts} hosts) ACTIVE':>25} "
          f"{'marker':>7} {'lease':>7}")  # fmt: skip
    for count in counts:
        print(f"{count:>5} | {cell(_mean_of(aio, count, 'active'), 17)} {cell(_mean_of(aio, count, 'marker'), 7)} | "
              f"{cell(_mean_of(tb, count, 'active'), 25)} {cell(_mean_of(tb, count, 'marker'), 7)} "
              f"{cell(_mean_of(tb, count, 'lease'), 7)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--hosts", type=int, default=2, help="hosts of a new test bed")
    parser.add_argument("--state-dir", type=Path, default=None, help="test bed root (default /var/lib/stratus-testbed)")
    parser.add_argument("--id", default=None, help="use this existing test bed (left running)")
    parser.add_argument("--no-pin", action="store_true", help="let the scheduler place the servers")
    parser.add_argument("--skip-all-in-one", action="store_true")
    args = parser.parse_args()
    interrupt_on_sigterm()

    t0 = time.monotonic()
    aio: list[dict[str, Any]] = []
    if not args.skip_all_in_one:
        import boot_latency

        aio, _bare = boot_latency.run(args.counts, args.rounds)
        print()
    with testbed(args.hosts, args.state_dir, args.id) as tb:
        rows = run_testbed(tb, args.counts, args.rounds, pin=not args.no_pin)
        summary(args.counts, aio, rows, len(tb.hosts))
    print(f"(whole run {time.monotonic() - t0:.0f} s; {machine_context()})")


if __name__ == "__main__":
    run_cleanly(main)
