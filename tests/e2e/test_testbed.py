"""Issue 7's first acceptance scenario on ``stratus testbed up --hosts 2`` (PostgreSQL + RabbitMQ, real parts).

As the demo user with the ``openstack`` CLI: a network, subnet and router to ``public``; server A pinned to
host 1 and B to host 2 (host targeting is admin-only upstream, so the admin, scoped to the demo project,
creates them); both lease their addresses; A reaches B by ping and TCP across the tunnel, and the
external network through the router's SNAT; the underlay between the two host namespaces carries Geneve
(captured with an AF_PACKET socket on the hosts' veths); a floating IP on B answers from the root namespace.
Then a third host joins with ``stratus testbed join`` (``stratus host admit`` on the controller, ``stratus join``
in its namespace): it shows up as a compute service and hypervisor, and a server pinned to it reaches A and B.
``stratus testbed down`` then leaves no namespace, link, process, database or vhost behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stratus.cli.testbed_plan import Plan, load_plan, new_id

pytestmark = [pytest.mark.root]

STRATUS = Path(sys.executable).parent / "stratus"
OPENSTACK = Path(sys.executable).parent / "openstack"
DEMO = "stratus-demo"
BOOT_TIMEOUT = 180.0
IP_LINE = r"^STRATUS-TESTVM-IP iface=eth0 addr=(\S+) router=(\S+) mtu=(\d+)\r?$"
GENEVE_PORT = 6081
ETH_P_ALL = 0x0003


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root (namespaces, OVS, libvirt)"
    for tool in ("ovs-vswitchd", "ovn-controller", "ovn-northd", "libvirtd", "qemu-system-x86_64", "socat",
                 "rabbitmqctl", "busybox"):  # fmt: skip
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    for port in (5432, 5672):  # PostgreSQL and RabbitMQ of this machine
        try:
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        except OSError:
            return f"nothing listens on 127.0.0.1:{port} (PostgreSQL / RabbitMQ)"
    return None


@pytest.fixture(scope="module")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Plan]:
    why = _missing()
    if why:
        pytest.skip(why)
    root = tmp_path_factory.mktemp("testbed")
    tid = new_id()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATUS_")}
    try:
        up = subprocess.run([str(STRATUS), "testbed", "up", "--hosts", "2", "--state-dir", str(root), "--id", tid],
                            env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
        assert up.returncode == 0, f"testbed up failed:\n{up.stdout}\n{up.stderr}"
        plan = load_plan(root, tid)
        yield plan
    finally:
        plan_file = root / tid / "testbed.json"
        saved = json.loads(plan_file.read_text()) if plan_file.exists() else None
        down = subprocess.run([str(STRATUS), "testbed", "down", "--state-dir", str(root), "--id", tid],
                              env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
        if saved is not None:  # `up` failed before saving anything: there is nothing to check
            assert down.returncode == 0, f"testbed down failed:\n{down.stdout}\n{down.stderr}"
            _assert_nothing_left(tid, root, saved)


def _assert_nothing_left(tid: str, root: Path, saved: dict[str, Any]) -> None:
    from stratus.cli.testbed_sys import pids_naming
    from stratus.network.agent.metadata_netns import own_namespaces

    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert tid not in namespaces, namespaces
    for host in saved["hosts"]:
        assert not own_namespaces(host["name"]), f"metadata namespaces of {host['name']} left"
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert f"{tid}-" not in links, links
    assert not pids_naming(root / tid), "processes of the test bed are still running"
    for pid in saved["pids"].values():
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", (f"{tid}_%",)).fetchall()
    assert not left, left
    vhosts = subprocess.run(["rabbitmqctl", "-q", "list_vhosts", "name"], capture_output=True, text=True).stdout
    assert tid not in vhosts.split(), vhosts
    assert not (root / tid).exists()


# --- the openstack CLI against the test bed


def osc_run(plan: Plan, *args: str, cloud: str = DEMO, extra: tuple[str, ...] = ()) -> str:
    env = {**os.environ, "OS_CLIENT_CONFIG_FILE": str(plan.directory / "clouds.yaml")}
    cmd = [str(OPENSTACK), "--os-cloud", cloud, *extra, *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr}\n{done.stdout}"
    return done.stdout


def osc(plan: Plan, *args: str, cloud: str = DEMO, extra: tuple[str, ...] = ()) -> Any:
    return json.loads(osc_run(plan, *args, "-f", "json", cloud=cloud, extra=extra))


def wait_until(what: str, condition: Callable[[], Any], timeout: float, step: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(step)  # polling a condition, bounded by the deadline


def wait_console(plan: Plan, server: str, pattern: str) -> re.Match[str]:
    regex = re.compile(pattern, re.MULTILINE)
    last = {"text": ""}

    def found() -> re.Match[str] | None:
        last["text"] = osc_run(plan, "console", "log", "show", server)
        return regex.search(last["text"])

    try:
        return wait_until(f"{pattern!r} on {server}'s console", found, BOOT_TIMEOUT, step=2.0)  # type: ignore[no-any-return]
    except AssertionError as exc:
        raise AssertionError(f"{exc}:\n{last['text'][-3000:]}") from None


def wait_active(plan: Plan, server: str) -> dict[str, Any]:
    def active() -> dict[str, Any] | None:
        info: dict[str, Any] = osc(plan, "server", "show", server)
        assert info["status"] != "ERROR", f"{server} is ERROR: {info.get('fault')}"
        return info if info["status"] == "ACTIVE" else None

    return wait_until(f"{server} ACTIVE", active, BOOT_TIMEOUT)  # type: ignore[no-any-return]


def pings(address: str) -> bool:
    return subprocess.run(["busybox", "ping", "-c", "1", "-W", "1", address], capture_output=True).returncode == 0


# --- an AF_PACKET capture of IPv4 headers on one link of the root namespace


@dataclass
class Capture:
    """Counts IPv4 packets on ``ifname`` by (src, dst, protocol, UDP dst port) until ``stop()``."""

    ifname: str
    seen: dict[tuple[str, str, int, int], int] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Capture:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        sock.bind((self.ifname, 0))
        sock.settimeout(0.5)
        self._thread = threading.Thread(target=self._run, args=(sock,), daemon=True)
        self._thread.start()
        return self

    def _run(self, sock: socket.socket) -> None:
        with sock:
            while not self._stop.is_set():
                try:
                    frame = sock.recv(65535)
                except TimeoutError:
                    continue
                if len(frame) < 34 or frame[12:14] != b"\x08\x00":
                    continue
                ihl = (frame[14] & 0x0F) * 4
                proto = frame[23]
                src, dst = socket.inet_ntoa(frame[26:30]), socket.inet_ntoa(frame[30:34])
                dport = struct.unpack("!H", frame[14 + ihl + 2 : 14 + ihl + 4])[0] if proto == 17 else 0
                key = (src, dst, proto, dport)
                self.seen[key] = self.seen.get(key, 0) + 1

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def count(self, src: str, dst: str, proto: int, dport: int = 0) -> int:
        return self.seen.get((src, dst, proto, dport), 0)


def test_two_hosts_tunnel_snat_and_floating_ip(testbed: Plan) -> None:
    plan = testbed
    h1, h2 = plan.hosts
    ip1, ip2 = h1.address.split("/")[0], h2.address.split("/")[0]
    external_ip = plan.external_gateway.split("/")[0]
    status = subprocess.run([str(STRATUS), "testbed", "status", "--state-dir", plan.root, "--id", plan.id],
                            capture_output=True, text=True)  # fmt: skip
    assert status.returncode == 0, status.stdout + status.stderr

    # the demo user's network, subnet and router to public
    net = osc(plan, "network", "create", "tb-net")
    subnet = osc(plan, "subnet", "create", "--network", net["id"], "--subnet-range", "10.77.0.0/24", "tb-subnet")
    router = osc(plan, "router", "create", "tb-router")
    osc_run(plan, "router", "set", "--external-gateway", "public", router["id"])
    osc_run(plan, "router", "add", "subnet", router["id"], subnet["id"])
    router = osc(plan, "router", "show", router["id"])
    router_ext_ip = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]

    # B's address is fixed up front so A's script knows it and both boot at once
    b_ip = "10.77.0.50"
    port_b = osc(plan, "port", "create", "--network", net["id"], "--fixed-ip",
                 f"subnet={subnet['id']},ip-address={b_ip}", "tb-b-port")  # fmt: skip
    script = plan.directory / "a-user-data.sh"
    script.write_text(
        "#!/bin/sh\n"
        f"i=0; while [ $i -lt 120 ] && ! ping -c 1 -W 1 {b_ip} >/dev/null 2>&1; do i=$((i+1)); done\n"
        f"ping -c 3 -W 2 {b_ip} >/dev/null 2>&1; echo E2E-PING-B rc=$?\n"
        f'i=0; while [ $i -lt 30 ]; do body=$(wget -q -O - http://{b_ip}/hostname 2>/dev/null); [ -n "$body" ] && break; i=$((i+1)); sleep 1; done\n'  # noqa: E501
        'echo "E2E-HTTP-B body=$body"\n'
        f"ping -c 3 -W 2 {external_ip} >/dev/null 2>&1; echo E2E-PING-EXT rc=$?\n"
    )

    # host targeting: the admin, scoped to the demo project (so the servers are demo's)
    osc_run(plan, "role", "add", "--user", "admin", "--project", "demo", "admin", cloud="stratus")
    as_admin_in_demo = ("--os-project-name", "demo")
    underlay = [Capture(h1.root_link).start(), Capture(h2.root_link).start()]
    external = Capture(plan.external_link).start()
    try:
        b = osc(plan, "server", "create", "--image", "testvm", "--flavor", "m1.tiny", "--port", port_b["id"],
                "--availability-zone", f"nova:{h2.name}", "tb-b", cloud="stratus", extra=as_admin_in_demo)  # fmt: skip
        a = osc(plan, "server", "create", "--image", "testvm", "--flavor", "m1.tiny", "--network", net["id"],
                "--user-data", str(script), "--availability-zone", f"nova:{h1.name}", "tb-a",
                cloud="stratus", extra=as_admin_in_demo)  # fmt: skip
        for server in (a, b):
            wait_active(plan, server["id"])
        hosts = {n: osc(plan, "server", "show", s["id"], cloud="stratus")["OS-EXT-SRV-ATTR:host"] for n, s in
                 (("a", a), ("b", b))}  # fmt: skip
        assert hosts == {"a": h1.name, "b": h2.name}

        # both lease their addresses from OVN's DHCP
        for server in (a, b):
            line = wait_console(plan, server["id"], IP_LINE)
            assert line.group(3) == "1442", line.group(0)
        assert wait_console(plan, b["id"], IP_LINE).group(1).split("/")[0] == b_ip

        # A -> B by ping and TCP (HTTP) across the tunnel, A -> the external network through SNAT
        assert wait_console(plan, a["id"], r"^E2E-PING-B rc=(\d+)").group(1) == "0"
        assert wait_console(plan, a["id"], r"^E2E-HTTP-B body=(.*?)\r?$").group(1) == "tb-b"
        assert wait_console(plan, a["id"], r"^E2E-PING-EXT rc=(\d+)").group(1) == "0"

        # a floating IP on B answers the root namespace (through the gateway chassis h1, then the tunnel)
        fip = osc(plan, "floating ip", "create", "public")["floating_ip_address"]
        osc_run(plan, "server", "add", "floating", "ip", b["id"], fip)
        osc(plan, "security group rule", "create", "--protocol", "icmp", "--ingress", "default")
        wait_until(f"ping to the floating IP {fip}", lambda: pings(fip), 30, step=0.5)
    finally:
        for capture in (*underlay, external):
            capture.stop()

    # the underlay carried Geneve between the two host addresses, both ways
    geneve_12 = sum(c.count(ip1, ip2, 17, GENEVE_PORT) for c in underlay)
    geneve_21 = sum(c.count(ip2, ip1, 17, GENEVE_PORT) for c in underlay)
    assert geneve_12 > 0 and geneve_21 > 0, f"no Geneve between {ip1} and {ip2}: {underlay[0].seen}"
    # A's ping left the gateway chassis SNATed to the router's external address
    assert external.count(router_ext_ip, external_ip, 1) > 0, external.seen
    print(f"Geneve packets {ip1}->{ip2}: {geneve_12}, {ip2}->{ip1}: {geneve_21}; SNAT ICMP "
          f"{router_ext_ip}->{external_ip}: {external.count(router_ext_ip, external_ip, 1)}")  # fmt: skip


def _ipv4_on(info: dict[str, Any], prefix: str) -> str:
    found = re.findall(re.escape(prefix) + r"\d+", json.dumps(info["addresses"]))
    assert found, f"no {prefix}x address in {info['addresses']}"
    return str(found[0])


def test_a_third_host_joins_and_its_server_reaches_the_others(testbed: Plan) -> None:
    """Runs after the two-host scenario: uses its network tb-net and its servers tb-a and tb-b."""
    joined = subprocess.run([str(STRATUS), "testbed", "join", "--state-dir", testbed.root, "--id", testbed.id],
                            capture_output=True, text=True, timeout=600)  # fmt: skip
    assert joined.returncode == 0, f"testbed join failed:\n{joined.stdout}\n{joined.stderr}"
    plan = load_plan(Path(testbed.root), testbed.id)
    h3 = plan.hosts[-1]
    assert (h3.index, h3.joined, len(plan.hosts)) == (3, True, 3)
    # its configuration came from the controller's join API, written private
    assert (Path(h3.config_file).stat().st_mode & 0o777) == 0o600
    assert plan.metadata_secret in Path(h3.config_file).read_text()
    status = subprocess.run([str(STRATUS), "testbed", "status", "--state-dir", plan.root, "--id", plan.id],
                            capture_output=True, text=True)  # fmt: skip
    assert status.returncode == 0, status.stdout + status.stderr
    services = osc(plan, "compute", "service", "list", cloud="stratus")
    assert any(s["Host"] == h3.name and s["State"] == "up" for s in services), services
    hypervisors = osc(plan, "hypervisor", "list", cloud="stratus")
    assert h3.name in [h["Hypervisor Hostname"] for h in hypervisors], hypervisors

    net = osc(plan, "network", "show", "tb-net")
    a_ip = _ipv4_on(osc(plan, "server", "show", "tb-a"), "10.77.0.")
    b_ip = _ipv4_on(osc(plan, "server", "show", "tb-b"), "10.77.0.")
    script = plan.directory / "c-user-data.sh"
    script.write_text(
        "#!/bin/sh\n"
        f"i=0; while [ $i -lt 120 ] && ! ping -c 1 -W 1 {b_ip} >/dev/null 2>&1; do i=$((i+1)); done\n"
        f"ping -c 3 -W 2 {a_ip} >/dev/null 2>&1; echo E2E-PING-A rc=$?\n"
        f"ping -c 3 -W 2 {b_ip} >/dev/null 2>&1; echo E2E-PING-B rc=$?\n"
        f'i=0; while [ $i -lt 30 ]; do body=$(wget -q -O - http://{b_ip}/hostname 2>/dev/null); [ -n "$body" ] && break; i=$((i+1)); sleep 1; done\n'  # noqa: E501
        'echo "E2E-HTTP-B body=$body"\n'
    )
    osc_run(plan, "role", "add", "--user", "admin", "--project", "demo", "admin", cloud="stratus")
    ip3, ip2 = h3.address.split("/")[0], plan.hosts[1].address.split("/")[0]
    underlay = Capture(h3.root_link).start()
    try:
        c = osc(plan, "server", "create", "--image", "testvm", "--flavor", "m1.tiny", "--network", net["id"],
                "--user-data", str(script), "--availability-zone", f"nova:{h3.name}", "tb-c",
                cloud="stratus", extra=("--os-project-name", "demo"))  # fmt: skip
        wait_active(plan, c["id"])
        assert osc(plan, "server", "show", c["id"], cloud="stratus")["OS-EXT-SRV-ATTR:host"] == h3.name
        assert wait_console(plan, c["id"], IP_LINE).group(3) == "1442"
        assert wait_console(plan, c["id"], r"^E2E-PING-A rc=(\d+)").group(1) == "0"
        assert wait_console(plan, c["id"], r"^E2E-PING-B rc=(\d+)").group(1) == "0"
        assert wait_console(plan, c["id"], r"^E2E-HTTP-B body=(.*?)\r?$").group(1) == "tb-b"
    finally:
        underlay.stop()
    geneve = underlay.count(ip3, ip2, 17, GENEVE_PORT)
    assert geneve > 0, f"no Geneve from {ip3} to {ip2}: {underlay.seen}"
    print(f"joined host {h3.name}: Geneve packets {ip3}->{ip2}: {geneve}")
