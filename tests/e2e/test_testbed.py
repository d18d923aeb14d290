"""Issue 7's first acceptance scenario on ``stratus testbed up --hosts 2`` (PostgreSQL + RabbitMQ, real parts).

As the demo user with the ``openstack`` CLI: a network, subnet and router to ``public``; server A pinned to
host 1 and B to host 2 (host targeting is admin-only upstream, so the admin, scoped to the demo project,
creates them); both lease their addresses; A reaches B by ping and TCP across the tunnel, and the
external network through the router's SNAT; the underlay between the two host namespaces carries Geneve
(captured with an AF_PACKET socket on the hosts' veths); a floating IP on B answers from the root namespace.
Then OVN central on the controller is restarted from scratch (NB and SB ovsdb-servers and ovn-northd killed,
both database files deleted): with no API call, the network service's resync refills the NB, the hosts'
ovn-controllers register their chassis again, A reaches B again and B's floating IP answers again.
Then a third host joins with ``stratus testbed join`` (``stratus host admit`` on the controller, ``stratus join``
in its namespace): it shows up as a compute service and hypervisor, and a server pinned to it reaches A and B.
``stratus testbed down`` then leaves no namespace, link, process, database or vhost behind.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
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

from stratus.cli.testbed_plan import HostPlan, Plan, load_plan
from stratus.core.process import read_pid, runs_program
from tests.e2e.testbeds import running_testbed

pytestmark = [pytest.mark.root]

STRATUS = Path(sys.executable).parent / "stratus"
OPENSTACK = Path(sys.executable).parent / "openstack"
DEMO = "stratus-demo"
BOOT_TIMEOUT = 180.0
IP_LINE = r"^STRATUS-TESTVM-IP iface=eth0 addr=(\S+) router=(\S+) mtu=(\d+)\r?$"
GENEVE_PORT = 6081
AB_LINE = r"E2E-AB n=(\d+) rc=(\d+)\r?\n"
"""A's endless prober of B (one ping, then this line, then 1 s of sleep), started by its user-data."""
OVN_CENTRAL = ("ovsdb-nb", "ovsdb-sb", "ovn-northd")
RECOVERY_TIMEOUT = 60.0
PORT_STATUS_TIMEOUT = 25.0
"""Below the resync interval (30 s): a port left DOWN by a stale status write would be fixed only by the next pass."""
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
    with running_testbed(tmp_path_factory, STRATUS, "testbed", up_timeout=600,
                         check_nothing_left=_assert_nothing_left) as plan:  # fmt: skip
        yield plan


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
        # for the OVN central restart test: A keeps probing B for the rest of the module
        f"(n=0; while true; do n=$((n+1)); ping -c 1 -W 1 {b_ip} >/dev/null 2>&1; echo E2E-AB n=$n rc=$?; sleep 1; done) &\n"  # noqa: E501
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


# --- OVN central restarted from scratch on the controller


def ovn_ctl(plan: Plan, tool: str, *args: str) -> str:
    """``ovn-nbctl`` / ``ovn-sbctl`` against the controller's NB / SB; "" while the server is down or restarting."""
    sock = plan.controller_state_dir / "ovn" / ("nb.sock" if tool == "ovn-nbctl" else "sb.sock")
    try:
        done = subprocess.run([tool, f"--db=unix:{sock}", "--timeout=5", *args],
                              capture_output=True, text=True, timeout=15)  # fmt: skip
    except subprocess.TimeoutExpired:
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def row_uuid(plan: Plan, tool: str, table: str, condition: str) -> str:
    return ovn_ctl(plan, tool, "--bare", "--columns=_uuid", "find", table, condition)


@dataclass
class CentralState:
    """Row uuids that a restart from empty databases must replace with new ones (all "" while missing)."""

    switch: str
    router: str
    chassis: dict[str, str]
    b_binding_chassis: str
    nat: str

    @classmethod
    def read(cls, plan: Plan, hosts: list[HostPlan], net_id: str, router_id: str, port_b: str) -> CentralState:
        return cls(
            switch=row_uuid(plan, "ovn-nbctl", "Logical_Switch", f"name=neutron-{net_id}"),
            router=row_uuid(plan, "ovn-nbctl", "Logical_Router", f"name=neutron-{router_id}"),
            chassis={h.name: row_uuid(plan, "ovn-sbctl", "Chassis", f"name={h.name}") for h in hosts},
            b_binding_chassis=ovn_ctl(
                plan, "ovn-sbctl", "--bare", "--columns=chassis", "find", "Port_Binding", f"logical_port={port_b}"
            ),
            nat=ovn_ctl(plan, "ovn-nbctl", "lr-nat-list", f"neutron-{router_id}"),
        )

    def complete(self, fip: str, b_host: str) -> bool:
        """Every row is there, B's port is bound to its host's chassis and the router holds B's NAT row."""
        rows = (self.switch, self.router, *self.chassis.values())
        return all(rows) and self.b_binding_chassis == self.chassis[b_host] and fip in self.nat

    def rebuilt_from(self, old: CentralState, fip: str, b_host: str) -> bool:
        """Complete again, each row under a new uuid (made afresh, not the old database's)."""
        renewed = self.switch != old.switch and self.router != old.router
        renewed = renewed and all(self.chassis[name] != old.chassis[name] for name in old.chassis)
        return renewed and self.complete(fip, b_host)


def console_file(host: HostPlan, server_id: str) -> Path:
    """The serial console log of a guest on ``host`` (read directly: watching it makes no API call)."""
    found = list(Path(host.state_dir).rglob(f"instances/{server_id}/console.log"))
    assert len(found) == 1, f"console of {server_id} under {host.state_dir}: {found}"
    return found[0]


def ab_probes(console: Path) -> list[tuple[int, int]]:
    """A's probes of B so far: (n, ping exit code)."""
    text = console.read_bytes().decode(errors="replace")
    return [(int(n), int(rc)) for n, rc in re.findall(AB_LINE, text)]


def test_ovn_central_restarted_empty_is_restored_by_resync(testbed: Plan) -> None:
    """Runs after the two-host scenario (tb-a on host 1 probing tb-b on host 2, B's floating IP answering)."""
    plan = testbed
    h1, h2 = plan.hosts[:2]
    ovn = plan.controller_state_dir / "ovn"
    net_id = osc(plan, "network", "show", "tb-net")["id"]
    router_id = osc(plan, "router", "show", "tb-router")["id"]
    port_b = osc(plan, "port", "show", "tb-b-port")["id"]
    (fip_row,) = osc(plan, "floating ip", "list", "--port", port_b)
    fip = fip_row["Floating IP Address"]
    a_id = osc(plan, "server", "show", "tb-a")["id"]
    (port_a_row,) = osc(plan, "port", "list", "--server", a_id)
    port_a = port_a_row["ID"]
    a_console = console_file(h1, a_id)
    wait_until(f"ping to the floating IP {fip}", lambda: pings(fip), 30, step=0.5)
    wait_until("A's probe of B succeeding", lambda: any(rc == 0 for _, rc in ab_probes(a_console)[-3:]), 30)
    old = CentralState.read(plan, [h1, h2], net_id, router_id, port_b)
    assert old.complete(fip, h2.name), old
    controllers = {h.name: read_pid(Path(h.state_dir) / "ovs" / "ovn-controller.pid") for h in (h1, h2)}
    central: dict[str, int] = {}
    for name in OVN_CENTRAL:
        pid = read_pid(ovn / f"{name}.pid")
        assert pid is not None and runs_program(pid, "ovsdb-server" if name.startswith("ovsdb") else name), name
        central[name] = pid
    probes_before = len(ab_probes(a_console))

    # OVN central dies at once and comes back (its supervisor restarts it) on new, empty NB and SB files
    (ovn / "nb.db").unlink()
    (ovn / "sb.db").unlink()
    start = time.monotonic()
    for pid in central.values():
        os.kill(pid, signal.SIGKILL)

    def restarted() -> bool:
        return all(read_pid(ovn / f"{n}.pid") not in (None, central[n]) for n in OVN_CENTRAL)

    wait_until("OVN central's restart by the controller's supervisor", restarted, 15, step=0.2)
    restart_took = time.monotonic() - start

    # no API call until the data plane is back: the resync refills the NB, northd the SB, the chassis register again
    new = {"state": old}

    def rebuilt() -> bool:
        new["state"] = CentralState.read(plan, [h1, h2], net_id, router_id, port_b)
        return new["state"].rebuilt_from(old, fip, h2.name)

    try:
        wait_until("the NB and SB rebuilt", rebuilt, RECOVERY_TIMEOUT, step=0.5)
    except AssertionError as exc:
        raise AssertionError(f"{exc}: before {old}, now {new['state']}") from None
    rebuilt_took = time.monotonic() - start
    remaining = max(1.0, RECOVERY_TIMEOUT - rebuilt_took)
    wait_until(f"ping to the floating IP {fip} after the restart", lambda: pings(fip), remaining, step=0.2)
    fip_took = time.monotonic() - start

    # A -> B across the tunnel: a probe that started after the databases were rebuilt (n >= last + 2) passed
    last = max((n for n, _ in ab_probes(a_console)), default=0)

    def a_reaches_b() -> bool:
        return any(n >= last + 2 and rc == 0 for n, rc in ab_probes(a_console))

    wait_until("A's probe of B succeeding after the restart", a_reaches_b, max(10.0, RECOVERY_TIMEOUT - fip_took),
               step=0.2)  # fmt: skip
    ab_took = time.monotonic() - start
    assert ab_took <= RECOVERY_TIMEOUT, f"A reached B only {ab_took:.1f} s after the restart"

    # the hosts' ovn-controllers reconnected by themselves (not restarted)
    for h in (h1, h2):
        pid = controllers[h.name]
        assert pid is not None and runs_program(pid, "ovn-controller"), f"ovn-controller of {h.name} was restarted"

    # the API tells the truth again: both ports ACTIVE (reads only; nothing is changed through the API)
    def ports_active() -> bool:
        return all(osc(plan, "port", "show", port)["status"] == "ACTIVE" for port in (port_a, port_b))

    wait_until("A's and B's ports ACTIVE", ports_active, max(1.0, PORT_STATUS_TIMEOUT - (time.monotonic() - start)))
    status_took = time.monotonic() - start
    failed = [n for n, rc in ab_probes(a_console)[probes_before:] if rc != 0]
    print(f"OVN central restart from empty NB+SB: daemons back in {restart_took:.1f} s, NB+SB rebuilt in "
          f"{rebuilt_took:.1f} s, floating IP {fip} answers after {fip_took:.1f} s, A reaches B after "
          f"{ab_took:.1f} s, ports ACTIVE after {status_took:.1f} s; A's probes of B that failed meanwhile: "
          f"{len(failed)}")  # fmt: skip


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
