"""The network service's host side on real OVS/OVN: central, chassis, VIF plugging, supervision.

Everything runs in a temporary state directory, and the chassis (ovs-vswitchd, its bridges, the host
address and the VIF taps) inside a test network namespace, so this never meets the ``br-int`` /
``br-ex`` of a cloud started by ``stratus up`` on the same machine (bridge devices are kernel names:
two ovs-vswitchd in one namespace would fight over them). Namespaces standing in for VMs hang off
the chassis namespace by veth pairs, as in the OVN lab (/work/shared/notes/ovn-lab/30-ls-nsvms.sh).
All names carry a per-run prefix; the fixture removes namespaces, daemons and files whatever happens.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from stratus.core.bus import Bus
from stratus.core.config import Config
from stratus.core.process import pid_alive
from stratus.network import conf
from stratus.network.agent import vif
from stratus.network.agent.central import OvnCentral
from stratus.network.agent.manager import VifManager
from stratus.network.agent.service import NetworkAgent
from stratus.network.client import NetworkAgentClient

TOOLS = ("ovs-vswitchd", "ovn-northd", "ovn-controller", "ovn-nbctl", "ethtool", "busybox")
pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces, OVS)"),
    pytest.mark.skipif(
        not all(shutil.which(t) for t in TOOLS),
        reason="needs Open vSwitch and OVN (bash scripts/install-debs.sh)",
    ),
]

DEADLINE = 30.0
TENANT = "10.253.7"
EXTERNAL_CIDR = "172.24.4.1/24"


def wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)  # polling a condition, bounded by the deadline


def run(*cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def pings(ns: str, ip: str) -> bool:
    return run("ip", "netns", "exec", ns, "busybox", "ping", "-c1", "-W1", ip, check=False).returncode == 0


class RecordingMetadata:
    """Stands in for the metadata proxies: records the hooks the agent calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    def ensure(self, network_id: str) -> None:
        self.calls.append(("ensure", network_id))

    def release(self, network_id: str) -> None:
        self.calls.append(("release", network_id))

    def sync(self, network_ids: set[str]) -> None:
        self.calls.append(("sync", set(network_ids)))

    def close(self) -> None:
        self.calls.append(("close", None))


@dataclass
class Host:
    prefix: str
    state: Path
    config: Config
    chassis_ns: str
    central: OvnCentral
    agent: NetworkAgent
    bus: Bus
    metadata: RecordingMetadata
    namespaces: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return self.config.core.host

    def nbctl(self, *args: str, check: bool = True) -> str:
        return run("ovn-nbctl", f"--db={self.central.nb_remote}", "--timeout=20", *args, check=check).stdout

    def sbctl(self, *args: str) -> str:
        return run("ovn-sbctl", f"--db={self.central.sb_remote}", "--timeout=20", *args).stdout

    def in_chassis(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run("ip", "netns", "exec", self.chassis_ns, *cmd, check=check)

    def lsp_up(self, name: str) -> bool:
        return self.nbctl("--if-exists", "get", "Logical_Switch_Port", name, "up").strip() == "true"

    def vm_namespace(self, tag: str, switch_port: str, mac: str, cidr: str, mtu: int = 1442) -> str:
        """A namespace "VM" whose eth0 is a veth into the chassis namespace, plugged like the lab does."""
        ns, host_end = f"{self.prefix}-{tag}", f"{self.prefix}{tag}p"
        run("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", self.chassis_ns, "link", "add", host_end, "type", "veth", "peer", "name", "eth0", "netns", ns)
        self.in_chassis("ethtool", "-K", host_end, "tx", "off")
        run("ip", "netns", "exec", ns, "ethtool", "-K", "eth0", "tx", "off")
        run("ip", "-n", self.chassis_ns, "link", "set", host_end, "up")
        run("ip", "-n", ns, "link", "set", "eth0", "address", mac, "mtu", str(mtu), "up")
        run("ip", "-n", ns, "addr", "add", cidr, "dev", "eth0")
        self.agent.ovs.add_port(self.agent.conf.integration_bridge, host_end, iface_id=switch_port)
        return ns


def tcp_transfer(server_ns: str, server_ip: str, client_ns: str, size: int = 256 * 1024) -> int:
    """Bytes a TCP client in ``client_ns`` received from a one-shot server in ``server_ns``."""
    server_code = (
        "import socket,sys\n"
        "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        f"s.bind(('{server_ip}', 5999)); s.listen(1); s.settimeout(20); print('listening', flush=True)\n"
        f"c,_=s.accept(); c.sendall(b'x'*{size}); c.close()\n"
    )
    server = subprocess.Popen(
        ["ip", "netns", "exec", server_ns, "python3", "-c", server_code], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "listening"
        client_code = (
            "import socket\n"
            f"c=socket.create_connection(('{server_ip}', 5999), timeout=15); n=0\n"
            "while (b:=c.recv(65536)): n+=len(b)\n"
            "print(n)\n"
        )
        out = run("ip", "netns", "exec", client_ns, "python3", "-c", client_code, check=False, timeout=40)
        assert out.returncode == 0, out.stderr
        return int(out.stdout.strip())
    finally:
        if server.poll() is None:
            server.kill()
        server.wait(10)


@pytest.fixture(scope="module")
def host() -> Iterator[Host]:
    prefix = "sx" + secrets.token_hex(2)
    state = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir="/tmp"))  # short: unix socket paths are limited
    chassis_ns = f"{prefix}-ch"
    config = Config(
        {
            "core": {"state_dir": str(state), "host": f"{prefix}-host"},
            "network_agent": {"external_cidr": EXTERNAL_CIDR, "encap_ip": "127.0.0.1"},
        },
        env={},
    )
    namespaces = [chassis_ns]
    bus = Bus("memory://", name=f"stratus-{prefix}")
    central = OvnCentral(conf.ovn_dir(config))
    metadata = RecordingMetadata()
    agent = NetworkAgent(config, bus, netns=chassis_ns, metadata=metadata)
    try:
        run("ip", "netns", "add", chassis_ns)
        run("ip", "-n", chassis_ns, "link", "set", "lo", "up")
        central.start()
        agent.start()
        h = Host(prefix, state, config, chassis_ns, central, agent, bus, metadata, namespaces)
        yield h
    finally:
        try:
            agent.close()
        finally:
            central.stop()
            bus.close()
            for ns in namespaces:
                run("ip", "netns", "del", ns, check=False)
            shutil.rmtree(state, ignore_errors=True)


def test_chassis_registers_in_southbound(host: Host) -> None:
    wait_for(lambda: host.host in host.sbctl("--bare", "--columns=name", "list", "Chassis"), DEADLINE, "the chassis")
    encap = host.sbctl("--bare", "--columns=type,ip", "find", "Encap", f"chassis_name={host.host}")
    assert "geneve" in encap and "127.0.0.1" in encap
    ids = host.agent.ovs.vsctl("get", "Open_vSwitch", ".", "external_ids")
    assert 'ovn-bridge-mappings="public:br-ex"' in ids and "ovn-cms-options=enable-chassis-as-gw" in ids
    assert host.agent.ovs.vsctl("get", "Bridge", "br-int", "fail_mode").strip() == "secure"
    assert host.agent.ovs.vsctl("get", "Bridge", "br-ex", "datapath_type").strip() == host.agent.chassis.datapath_type
    assert "inet 172.24.4.1/24" in host.in_chassis("ip", "addr", "show", "dev", "br-ex").stdout
    assert host.metadata.calls[0] == ("sync", set())


def test_plug_vif_binds_port_and_namespaces_talk(host: Host) -> None:
    net_id = f"{host.prefix}-net"
    ls = f"neutron-{net_id}"
    ports = {"vm": ("fa:16:3e:00:07:10", f"{TENANT}.10"), "a": ("fa:16:3e:00:07:11", f"{TENANT}.11"),
             "b": ("fa:16:3e:00:07:12", f"{TENANT}.12")}  # fmt: skip
    host.nbctl("ls-add", ls)
    for tag, (mac, ip) in ports.items():
        name = f"{host.prefix}-{tag}-port"
        host.nbctl("lsp-add", ls, name, "--", "lsp-set-addresses", name, f"{mac} {ip}")

    tap = f"tap{host.prefix}vm"
    client = NetworkAgentClient(host.bus, host.host, timeout=60)
    client.plug_vif(port_id=f"{host.prefix}-vm-port", network_id=net_id, mac_address=ports["vm"][0],
                    devname=tap, mtu=1442)  # fmt: skip
    client.plug_vif(port_id=f"{host.prefix}-vm-port", network_id=net_id, mac_address=ports["vm"][0],
                    devname=tap, mtu=1442)  # fmt: skip  # idempotent
    assert "mtu 1442" in host.in_chassis("ip", "link", "show", "dev", tap).stdout
    ids = host.agent.ovs.interface_external_ids(tap)
    expected = {"iface-id": f"{host.prefix}-vm-port", "attached-mac": ports["vm"][0], "iface-status": "active",
                vif.MARKER: net_id}  # fmt: skip
    assert expected.items() <= ids.items()  # ovn-controller adds ovn-installed once bound
    assert host.agent.manager.networks() == {net_id: {f"{host.prefix}-vm-port"}}
    assert ("ensure", net_id) in host.metadata.calls
    wait_for(lambda: host.lsp_up(f"{host.prefix}-vm-port"), DEADLINE, "the tap's port to go up")

    ns_a = host.vm_namespace("a", f"{host.prefix}-a-port", ports["a"][0], f"{ports['a'][1]}/24")
    ns_b = host.vm_namespace("b", f"{host.prefix}-b-port", ports["b"][0], f"{ports['b'][1]}/24")
    for tag in ("a", "b"):
        wait_for(lambda t=tag: host.lsp_up(f"{host.prefix}-{t}-port"), DEADLINE, f"port {tag} to go up")
    wait_for(lambda: pings(ns_a, ports["b"][1]), DEADLINE, "a to ping b")
    assert tcp_transfer(ns_b, ports["b"][1], ns_a) == 256 * 1024
    assert tcp_transfer(ns_a, ports["a"][1], ns_b) == 256 * 1024

    # a restarted agent finds the VIF again from the bridge
    fresh = VifManager(host.agent.ovs, host.agent.manager.ip, "br-int", RecordingMetadata())
    assert fresh.rebuild() == {net_id: {f"{host.prefix}-vm-port"}}
    assert fresh.metadata.calls == [("sync", {net_id})]  # type: ignore[union-attr]

    client.unplug_vif(port_id=f"{host.prefix}-vm-port", devname=tap)
    client.unplug_vif(port_id=f"{host.prefix}-vm-port", devname=tap)  # idempotent
    assert host.in_chassis("ip", "link", "show", "dev", tap, check=False).returncode != 0
    assert tap not in host.agent.ovs.list_ports("br-int")
    assert host.metadata.calls[-1] == ("release", net_id)
    assert host.agent.manager.networks() == {}
    wait_for(lambda: not host.lsp_up(f"{host.prefix}-vm-port"), DEADLINE, "the unplugged port to go down")


def test_host_reaches_flat_external_network(host: Host) -> None:
    """The host address on br-ex reaches a port of a flat network on physnet ``public`` (ping and TCP)."""
    ls = f"neutron-{host.prefix}-ext"
    host.nbctl("ls-add", ls)
    host.nbctl("lsp-add", ls, f"provnet-{host.prefix}", "--", "lsp-set-type", f"provnet-{host.prefix}", "localnet",
               "--", "lsp-set-addresses", f"provnet-{host.prefix}", "unknown",
               "--", "lsp-set-options", f"provnet-{host.prefix}", "network_name=public")  # fmt: skip
    name, mac, ip = f"{host.prefix}-x-port", "fa:16:3e:00:07:20", "172.24.4.50"
    host.nbctl("lsp-add", ls, name, "--", "lsp-set-addresses", name, f"{mac} {ip}")
    ns_x = host.vm_namespace("x", name, mac, f"{ip}/24", mtu=1500)
    wait_for(lambda: host.lsp_up(name), DEADLINE, "the external port to go up")
    wait_for(lambda: pings(host.chassis_ns, ip), DEADLINE, "the host to ping the external port")
    assert tcp_transfer(ns_x, ip, host.chassis_ns) == 256 * 1024
    assert tcp_transfer(host.chassis_ns, EXTERNAL_CIDR.split("/")[0], ns_x) == 256 * 1024  # bulk from the host


def test_supervisor_restarts_vswitchd(host: Host) -> None:
    vswitchd = host.agent.chassis.supervisor.get("ovs-vswitchd")  # type: ignore[union-attr]
    old = vswitchd.pid
    assert old is not None
    os.kill(old, 9)
    wait_for(lambda: vswitchd.pid not in (None, old) and vswitchd.alive(), DEADLINE, "a new ovs-vswitchd")
    assert not pid_alive(old)
    wait_for(
        lambda: "inet 172.24.4.1/24" in host.in_chassis("ip", "addr", "show", "dev", "br-ex", check=False).stdout,
        DEADLINE,
        "the host address back on br-ex",
    )
    ns_a, ip_b = f"{host.prefix}-a", f"{TENANT}.12"
    wait_for(lambda: pings(ns_a, ip_b), DEADLINE, "traffic after the restart")


def test_wiped_northbound_comes_back_empty(host: Host) -> None:
    assert host.nbctl("ls-list").strip()
    nb = host.central.supervisor.get("ovsdb-nb")
    old = nb.pid
    assert old is not None
    (host.central.directory / "nb.db").unlink()
    os.kill(old, 9)
    wait_for(lambda: nb.pid not in (None, old) and nb.alive(), DEADLINE, "a new NB ovsdb-server")
    wait_for(lambda: host.nbctl("show", check=False) == "" and (host.central.directory / "nb.db").exists(),
             DEADLINE, "an empty NB")  # fmt: skip
    assert host.nbctl("ls-list") == ""


def test_network_service_runs_central_and_refills_a_wiped_northbound() -> None:
    """NetworkService starts OVN central itself; after the NB is wiped its resync writes the network back."""
    from fastapi.testclient import TestClient

    from stratus.core.api.auth import Authenticator, StaticValidator
    from stratus.core.context import RequestContext
    from stratus.network.service import NetworkService

    state = Path(tempfile.mkdtemp(prefix="sxsvc-", dir="/tmp"))
    config = Config(
        {
            "core": {"state_dir": str(state)},
            "network": {"backend": "ovn", "resync_interval": 60},
            "network_agent": {"enabled": False},  # its chassis would sit in the root namespace
        },
        env={},
    )
    admin = RequestContext(user_id="u", project_id="p" * 32, roles=frozenset({"admin", "member", "reader"}))
    service = NetworkService(config, authenticator=Authenticator(StaticValidator({"admin": admin})))
    pids: list[int] = []
    try:
        service.start()
        assert service.central is not None and service.agent is None
        pids = [p.pid for p in service.central.supervisor.processes if p.pid is not None]
        with TestClient(service.app) as client:
            resp = client.post("/v2.0/networks", headers={"X-Auth-Token": "admin"}, json={"network": {"name": "n"}})
            assert resp.status_code == 201, resp.text
            ls = f"neutron-{resp.json()['network']['id']}"

        def nb_switches() -> str:
            return run("ovn-nbctl", f"--db={service.central.nb_remote}", "--timeout=5", "ls-list", check=False).stdout

        wait_for(lambda: ls in nb_switches(), DEADLINE, "the network in the NB")
        nb = service.central.supervisor.get("ovsdb-nb")
        old = nb.pid
        assert old is not None
        (service.central.directory / "nb.db").unlink()
        os.kill(old, 9)
        wait_for(lambda: nb.pid not in (None, old) and nb.alive(), DEADLINE, "a new NB ovsdb-server")
        wait_for(lambda: ls in nb_switches(), DEADLINE, "the resync to write the network back")
    finally:
        if service.central is not None:
            pids += [p.pid for p in service.central.supervisor.processes if p.pid is not None]
        service.close()
        shutil.rmtree(state, ignore_errors=True)
    assert not any(pid_alive(pid) for pid in pids)
