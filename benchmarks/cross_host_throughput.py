"""Cross-host VM-to-VM TCP throughput on the test bed, beside the raw OVS datapath between the same two hosts.

    sudo .venv/bin/python benchmarks/cross_host_throughput.py                 # 3 runs each, 20 MiB, 5 s
    sudo .venv/bin/python benchmarks/cross_host_throughput.py --runs 5 --mib 40
    sudo .venv/bin/python benchmarks/cross_host_throughput.py --state-dir /tmp/tb --id stb1a2b   # existing test bed

On ``stratus testbed up --hosts 2`` (or the given test bed, left running), in the demo project: a network,
subnet and a security group allowing TCP and ICMP within the subnet, then

- raw OVS datapath: two network namespaces act as VMs, one per host: a veth whose host end sits on that host's
  br-int with ``external_ids:iface-id`` = a port made through the network API (``binding:host_id`` = the host,
  so OVN binds it there), ``tx off`` on both ends as OVS netdev needs; ``iperf3`` (a Python socket
  sender/receiver if it is missing) from host 1's namespace to host 2's, across the Geneve tunnel;
- VM to VM: ``testvm`` B pinned to host 2 serves a ``--mib`` file with its busybox httpd (user-data), A pinned to
  host 1 fetches it ``--runs`` times with busybox ``wget -O /dev/null`` and prints each fetch's start and end
  (``/proc/uptime``) on its console, which this script reads through the compute API.

Both paths cross the same vswitchds and tunnel; the guests add QEMU (TCG here: the guest's CPU is emulated)
and virtio. Everything made is removed (a test bed made here is taken down), also on an error or Ctrl-C.
Figures are printed, never asserted. Needs root.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _boot_common import (  # noqa: E402
    TestBed,
    console,
    delete_servers,
    interrupt_on_sigterm,
    machine_context,
    run_cleanly,
    testbed,
)

CIDR = "10.78.0.0/24"
PREFIX = "10.78.0."
NS_IPS = (PREFIX + "11", PREFIX + "12")
A_IP, B_IP = PREFIX + "40", PREFIX + "50"
IPERF_PORT = 5201
WGET_LINE = re.compile(r"^BENCH-WGET run=(\d+) rc=(\d+) t0=([\d.]+) t1=([\d.]+)\r?$", re.MULTILINE)
DONE = re.compile(r"^BENCH-WGET-DONE(.*?)\r?$", re.MULTILINE)

# A Python stand-in for iperf3 when it is not installed: the receiver counts bytes until EOF.
PY_RECEIVER = """
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(1); print("listening", flush=True); c, _ = s.accept(); n = 0; t0 = time.monotonic()
while (b := c.recv(1 << 16)): n += len(b)
print(n, time.monotonic() - t0, flush=True)
"""
PY_SENDER = """
import socket, sys, time
c = socket.create_connection((sys.argv[1], int(sys.argv[2]))); buf = b"x" * (1 << 16)
end = time.monotonic() + float(sys.argv[3])
while time.monotonic() < end: c.sendall(buf)
c.shutdown(socket.SHUT_WR); c.recv(1); c.close()
"""


def sh(*cmd: str, check: bool = True, timeout: float = 60) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def wait_until(what: str, condition: Callable[[], Any], timeout: float, step: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)  # polling a condition, bounded by the deadline
    return value


def _mbits(values: list[float]) -> str:
    return f"{' '.join(f'{v:.0f}' for v in values)}  mean {statistics.mean(values):.0f}" if values else "-"


# --- set-up in the demo project


def network(tb: TestBed) -> tuple[str, str, int]:
    """(network id, subnet id, MTU) of the benchmark's tenant network, and its security group."""
    tb.grant_admin_in_demo()
    net = tb.osc("network", "create", "bench-tput-net")
    subnet = tb.osc("subnet", "create", "--network", net["id"], "--subnet-range", CIDR, "bench-tput-subnet")
    tb.osc("security group", "create", "bench-tput")
    for proto in ("tcp", "icmp"):
        tb.osc("security group rule", "create", "--ingress", "--protocol", proto, "--remote-ip", CIDR, "bench-tput")
    return net["id"], subnet["id"], int(net.get("mtu") or 1442)


def port(tb: TestBed, net: str, subnet: str, ip: str, name: str, host: str | None = None) -> dict[str, Any]:
    args = ["port", "create", "--network", net, "--fixed-ip", f"subnet={subnet},ip-address={ip}",
            "--security-group", "bench-tput"]  # fmt: skip
    if host:
        args += ["--host", host]  # binding:host_id is admin-only
    return tb.osc(*args, name, admin_in_demo=bool(host))  # type: ignore[no-any-return]


def cleanup_openstack(tb: TestBed) -> None:
    """Remove the benchmark's servers, ports, group and network (for a borrowed test bed; best effort)."""
    api = tb.compute()
    delete_servers(api, [s["id"] for s in api.get("/servers").json()["servers"] if s["name"].startswith("bench-tput")])
    names = [("port", f"bench-tput-{p}") for p in ("ns1", "ns2", "a", "b")]
    for kind, name in [*names, ("network", "bench-tput-net"), ("security group", "bench-tput")]:
        try:
            tb.run(kind, "delete", name, admin_in_demo=True)
        except RuntimeError:
            pass  # already gone (deleted with its server, or never made)


# --- raw OVS datapath: a namespace per host bound to an OVN port


class NamespaceVm:
    """Namespace ``<id>-bn<i>`` with ``eth0``, a veth whose other end is on host i's br-int bound to ``port``."""

    def __init__(self, tb: TestBed, index: int, port: dict[str, Any], mtu: int):
        host = tb.plan.hosts[index - 1]
        self.name = f"{tb.plan.id}-bn{index}"
        self.host_ns = host.namespace
        self.veth = f"{tb.plan.id}-bv{index}"
        self.ovs_db = f"unix:{Path(host.state_dir) / 'ovs' / 'db.sock'}"
        self.ip = port["fixed_ips"][0]["ip_address"]
        self.port, self.mac, self.mtu = port["id"], port["mac_address"], mtu

    def create(self) -> None:
        sh("ip", "netns", "add", self.name)
        sh("ip", "-n", self.host_ns, "link", "add", self.veth, "type", "veth", "peer", "eth0", "netns", self.name)
        sh("ip", "-n", self.name, "link", "set", "eth0", "address", self.mac, "mtu", str(self.mtu))
        sh("ip", "-n", self.name, "addr", "add", f"{self.ip}/24", "dev", "eth0")
        sh("ip", "-n", self.name, "link", "set", "lo", "up")
        sh("ip", "-n", self.name, "link", "set", "eth0", "up")
        sh("ip", "-n", self.host_ns, "link", "set", self.veth, "mtu", str(self.mtu), "up")
        # OVS netdev reads the veth through AF_PACKET: partial checksums would leave unfilled (TCP fails)
        sh("ip", "netns", "exec", self.name, "ethtool", "-K", "eth0", "tx", "off")
        sh("ip", "netns", "exec", self.host_ns, "ethtool", "-K", self.veth, "tx", "off")
        sh("ovs-vsctl", f"--db={self.ovs_db}", "--timeout=30", "add-port", "br-int", self.veth, "--", "set",
           "Interface", self.veth, f"external_ids:iface-id={self.port}")  # fmt: skip

    def remove(self) -> None:
        sh("ovs-vsctl", f"--db={self.ovs_db}", "--timeout=10", "--if-exists", "del-port", "br-int", self.veth,
           check=False)  # fmt: skip
        sh("ip", "-n", self.host_ns, "link", "del", self.veth, check=False)
        for pid in sh("ip", "netns", "pids", self.name, check=False).split():
            sh("kill", "-9", pid, check=False)  # only what runs in this benchmark's own namespace
        sh("ip", "netns", "del", self.name, check=False)

    def exec(self, *cmd: str) -> list[str]:
        return ["ip", "netns", "exec", self.name, *cmd]


def _listening(ns: NamespaceVm, port: int) -> bool:
    return f":{port} " in sh(*ns.exec("ss", "-Hltn"), check=False)


def iperf_runs(a: NamespaceVm, b: NamespaceVm, runs: int, seconds: int) -> tuple[str, list[float]]:
    """Mbit/s received per run, a -> b, one TCP stream of ``seconds`` each."""
    use_iperf = shutil.which("iperf3") is not None
    figures = []
    for _ in range(runs):
        if use_iperf:
            server = subprocess.Popen(b.exec("iperf3", "-s", "-1", "-p", str(IPERF_PORT)), stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)  # fmt: skip
        else:
            server = subprocess.Popen(b.exec(sys.executable, "-c", PY_RECEIVER, str(IPERF_PORT)),
                                      stdout=subprocess.PIPE, text=True)  # fmt: skip
        try:
            wait_until("the receiver to listen", lambda: _listening(b, IPERF_PORT), 15, step=0.2)
            if use_iperf:
                out = sh(*a.exec("iperf3", "-c", b.ip, "-p", str(IPERF_PORT), "-t", str(seconds), "-J"),
                         timeout=seconds + 60)  # fmt: skip
                figures.append(json.loads(out)["end"]["sum_received"]["bits_per_second"] / 1e6)
            else:
                sh(*a.exec(sys.executable, "-c", PY_SENDER, b.ip, str(IPERF_PORT), str(seconds)), timeout=seconds + 60)
                got, elapsed = server.communicate(timeout=30)[0].split()[-2:]
                figures.append(int(got) * 8 / float(elapsed) / 1e6)
            server.wait(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
                server.wait()
    return ("iperf3" if use_iperf else "python sockets"), figures


def raw_datapath(tb: TestBed, net: str, subnet: str, mtu: int, runs: int, seconds: int) -> tuple[str, list[float]]:
    h1, h2 = tb.hosts[:2]
    vms = []
    try:
        for i, (host, ip) in enumerate(((h1, NS_IPS[0]), (h2, NS_IPS[1])), start=1):
            vm = NamespaceVm(tb, i, port(tb, net, subnet, ip, f"bench-tput-ns{i}", host=host), mtu)
            vms.append(vm)
            vm.create()
        a, b = vms
        t0 = time.monotonic()
        ping = a.exec("busybox", "ping", "-c", "1", "-W", "1", b.ip)
        wait_until(f"{a.name} to ping {b.ip}", lambda: subprocess.run(ping, capture_output=True).returncode == 0, 60)
        print(f"  namespaces bound and reachable in {time.monotonic() - t0:.1f} s; load before: "
              f"{machine_context().split('; ')[-1]}", flush=True)  # fmt: skip
        return iperf_runs(a, b, runs, seconds)
    finally:
        for vm in vms:
            vm.remove()


# --- VM to VM


B_SCRIPT = """#!/bin/sh
dd if=/dev/zero of=/www/big bs=1048576 count={mib} 2>/dev/null
echo ok >/www/ready
echo "BENCH-SERVING bytes=$(wc -c </www/big)"
"""

A_SCRIPT = """#!/bin/sh
n=0
while ! timeout 5 wget -q -O /dev/null http://{b}/ready 2>/dev/null; do
    n=$((n + 1)); [ $n -ge 300 ] && {{ echo "BENCH-WGET-DONE error=no-answer-from-{b}"; exit 1; }}; sleep 1
done
i=1
while [ $i -le {runs} ]; do
    t0=$(cut -d' ' -f1 /proc/uptime)
    timeout 300 wget -q -O /dev/null http://{b}/big; rc=$?
    t1=$(cut -d' ' -f1 /proc/uptime)
    echo "BENCH-WGET run=$i rc=$rc t0=$t0 t1=$t1"
    i=$((i + 1))
done
echo "BENCH-WGET-DONE"
"""


def vm_to_vm(tb: TestBed, net: str, subnet: str, runs: int, mib: int) -> list[float]:
    h1, h2 = tb.hosts[:2]
    api = tb.compute()
    with tempfile.TemporaryDirectory(prefix="stratus-bench-tput-") as tmp:
        (Path(tmp) / "b.sh").write_text(B_SCRIPT.format(mib=mib))
        (Path(tmp) / "a.sh").write_text(A_SCRIPT.format(b=B_IP, runs=runs))
        ids = {}
        for name, ip, host, script in (("b", B_IP, h2, "b.sh"), ("a", A_IP, h1, "a.sh")):
            p = port(tb, net, subnet, ip, f"bench-tput-{name}")
            ids[name] = tb.osc("server", "create", "--image", "testvm", "--flavor", "m1.tiny", "--port", p["id"],
                               "--user-data", str(Path(tmp) / script), "--availability-zone", f"nova:{host}",
                               f"bench-tput-{name}", admin_in_demo=True)["id"]  # fmt: skip

    def finished() -> str | None:
        text = console(api, ids["a"])
        return text if DONE.search(text) else None

    t0 = time.monotonic()
    text = wait_until("A's wget runs", finished, 900, step=3)
    print(f"  guests booted and fetched in {time.monotonic() - t0:.0f} s", flush=True)
    if (done := DONE.search(text)) and done.group(1).strip():
        raise RuntimeError(f"A: {done.group(1).strip()}\nA:\n{text[-2000:]}\nB:\n{console(api, ids['b'])[-2000:]}")
    served = re.search(r"BENCH-SERVING bytes=(\d+)", console(api, ids["b"]))
    size = int(served.group(1)) if served else mib * 1048576
    figures = []
    for run, rc, start, end in WGET_LINE.findall(text):
        if rc != "0":
            print(f"  run {run}: wget rc={rc} (left out)")
            continue
        figures.append(size * 8 / (float(end) - float(start)) / 1e6)
    delete_servers(api, list(ids.values()))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mib", type=int, default=20, help="size of the file A fetches from B")
    parser.add_argument("--seconds", type=int, default=5, help="length of one iperf3 run")
    parser.add_argument("--state-dir", type=Path, default=None, help="test bed root (default /var/lib/stratus-testbed)")
    parser.add_argument("--id", default=None, help="use this existing 2+ host test bed (left running)")
    args = parser.parse_args()
    interrupt_on_sigterm()

    t0 = time.monotonic()
    with testbed(2, args.state_dir, args.id) as tb:
        h1, h2 = (h.removeprefix(f"{tb.plan.id}-") for h in tb.hosts[:2])
        try:
            net, subnet, mtu = network(tb)
            print(f"test bed {tb.plan.id}: {h1} -> {h2} across Geneve, tenant MTU {mtu}; {machine_context()}")
            print("raw OVS datapath (namespace 'VMs' on the hosts' br-int):", flush=True)
            tool, raw = raw_datapath(tb, net, subnet, mtu, args.runs, args.seconds)
            raw_load = machine_context().split("; ")[-1]
            print(f"  {tool}, {args.seconds} s per run: {_mbits(raw)} Mbit/s", flush=True)
            print("VM to VM (testvm A on h1 wgets a file from B's busybox httpd on h2):", flush=True)
            guest = vm_to_vm(tb, net, subnet, args.runs, args.mib)
            guest_load = machine_context().split("; ")[-1]
            print(f"  busybox wget of {args.mib} MiB: {_mbits(guest)} Mbit/s", flush=True)
        finally:
            if not tb.owned:
                try:
                    cleanup_openstack(tb)
                except Exception as exc:  # best effort: never hide the run's own error
                    print(f"cleanup of the borrowed test bed incomplete: {exc}", file=sys.stderr)
        print()
        print(f"Cross-host TCP throughput, {h1} -> {h2} (Mbit/s per run, mean):")
        print(f"  raw OVS datapath, ns -> ns ({tool}, 1 stream, {args.seconds} s):  {_mbits(raw)}   [{raw_load}]")
        print(f"  VM -> VM (testvm, wget {args.mib} MiB over HTTP):       {_mbits(guest)}   [{guest_load}]")
    print(f"(whole run {time.monotonic() - t0:.0f} s; {machine_context()})")


if __name__ == "__main__":
    run_cleanly(main)
