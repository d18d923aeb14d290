"""The metadata path end to end on real OVS/OVN: guest namespace -> localport -> proxy namespace -> compute.

OVN central and a chassis (ovsdb-server, ovs-vswitchd, ovn-controller) run in a temporary directory,
the chassis inside a test network namespace so its ``br-int`` never meets a running cloud's. A logical
switch carries the network's metadata ``localport`` and a "VM" port whose veth ends in a namespace
standing in for the guest, with the route DHCP would hand out (169.254.169.254/32 via the metadata
address). ``MetadataProxies`` asks a stub "network-server" on an in-process bus, and forwards to the real
compute metadata app served on loopback from a temporary SQLite database holding one instance.
Everything (namespaces, daemons, files) is removed whatever happens.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stratus.compute import models
from stratus.compute.metadata import create_metadata_app
from stratus.core.api.server import ApiServer
from stratus.core.bus import Bus
from stratus.core.config import Config
from stratus.core.db import Database, upgrade
from stratus.network import conf
from stratus.network.agent import metadata_netns
from stratus.network.agent.central import OvnCentral
from stratus.network.agent.chassis import Chassis
from stratus.network.agent.metadata import MetadataProxies

pytestmark = [
    pytest.mark.root,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces, OVS)"),
    pytest.mark.skipif(
        not all(
            shutil.which(t) for t in ("ovs-vswitchd", "ovn-northd", "ovn-controller", "ovn-nbctl", "ethtool", "curl")
        ),
        reason="needs Open vSwitch, OVN, ethtool and curl (bash scripts/install-debs.sh)",
    ),
]

DEADLINE = 30.0
SECRET = "e2e-metadata-secret"
NET = "5b1d9e1c-6a52-4c0e-9d0b-2f7e3a4b5c6d"
TENANT = "10.254.9"
MD_IP, VM_IP, STRANGER_IP = f"{TENANT}.2", f"{TENANT}.10", f"{TENANT}.11"
MD_MAC, VM_MAC = "fa:16:3e:00:09:02", "fa:16:3e:00:09:10"
PROJECT = "e2e" + "0" * 29
USER_DATA = b"#!/bin/sh\n" + b"".join(b"echo line %05d of a user-data script\n" % i for i in range(1400))


def wait_for(check: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.2)  # polling a condition, bounded by the deadline


def run(*cmd: str, check: bool = True, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check and done.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()}")
    return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StubNetworkServer:
    """Answers the proxies' bus calls as the network service would for this one switch."""

    def __init__(self, vm_uuid: str):
        self.vm_uuid = vm_uuid
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def metadata_port(self, network_id: str) -> dict[str, Any] | None:
        self.calls.append(("metadata_port", (network_id,)))
        if network_id != NET:
            return None
        return {"port_id": f"md-{NET}", "mac_address": MD_MAC, "cidrs": [f"{MD_IP}/24"], "mtu": 1442}

    def lookup_instance(self, network_id: str, address: str) -> dict[str, str] | None:
        self.calls.append(("lookup_instance", (network_id, address)))
        if (network_id, address) == (NET, VM_IP):
            return {"device_id": self.vm_uuid, "project_id": PROJECT}
        return None


@dataclass
class Lab:
    prefix: str
    host: str
    chassis_ns: str
    vm_ns: str
    proxies: MetadataProxies
    chassis: Chassis
    stub: StubNetworkServer
    vm_uuid: str

    def curl(self, path: str, *, source: str | None = None) -> subprocess.CompletedProcess[str]:
        extra = ["--interface", source] if source else []
        return run("ip", "netns", "exec", self.vm_ns, "curl", "-s", "-m", "10", "-w", "\n%{http_code}", *extra,
                   f"http://169.254.169.254{path}", check=False)  # fmt: skip

    def get(self, path: str, *, source: str | None = None) -> tuple[int, str]:
        done = self.curl(path, source=source)
        body, _, code = done.stdout.rpartition("\n")
        return int(code or 0), body


def add_instance(db: Database) -> str:
    with db.session() as session:
        inst = models.Instance(
            display_name="e2e-vm",
            hostname="e2e-vm",
            project_id=PROJECT,
            user_id="u-e2e",
            flavor={"name": "m1.tiny"},
            user_data=base64.b64encode(USER_DATA).decode(),
            requested_networks="auto",
            network_info=[{"network_id": NET, "mac_address": VM_MAC, "ips": [{"address": VM_IP, "type": "fixed"}]}],
        )
        session.add(inst)
        session.flush()
        return inst.uuid


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    prefix = "smd" + secrets.token_hex(2)
    state = Path(tempfile.mkdtemp(prefix=f"{prefix}-", dir="/tmp"))  # short: unix socket paths are limited
    chassis_ns, vm_ns, vm_veth = f"{prefix}-ch", f"{prefix}-vm", f"{prefix}vmp"
    host = f"{prefix}-host"
    port = free_port()
    config = Config(
        {
            "core": {"state_dir": str(state), "host": host, "metadata_secret": SECRET},
            "network_agent": {
                "encap_ip": "127.0.0.1",
                "external_cidr": None,
                "bridge_mappings": {},
                "metadata_url": f"http://127.0.0.1:{port}",
            },
        },
        env={},
    )
    created: list[str] = []
    db = Database(f"sqlite:///{state}/compute.sqlite")
    upgrade(db, "stratus.compute:migrations")
    vm_uuid = add_instance(db)
    api = ApiServer("metadata", create_metadata_app(db, SECRET), "127.0.0.1", port)
    bus = Bus("memory://", name=f"stratus-{prefix}")
    stub = StubNetworkServer(vm_uuid)
    central = OvnCentral(conf.ovn_dir(config))
    chassis = Chassis(config, netns=chassis_ns)
    proxies: MetadataProxies | None = None
    try:
        api.start()
        bus.serve("network-server", stub, workers=2)
        for ns in (chassis_ns, vm_ns):
            run("ip", "netns", "add", ns)
            created.append(ns)
            run("ip", "-n", ns, "link", "set", "lo", "up")
        central.start()
        chassis.start()
        nb = ["ovn-nbctl", f"--db={central.nb_remote}", "--timeout=20"]
        ls = f"neutron-{NET}"
        run(*nb, "ls-add", ls)
        run(*nb, "lsp-add", ls, f"md-{NET}", "--", "lsp-set-type", f"md-{NET}", "localport",
            "--", "lsp-set-addresses", f"md-{NET}", f"{MD_MAC} {MD_IP}")  # fmt: skip
        run(*nb, "lsp-add", ls, f"vm-{NET}", "--", "lsp-set-addresses", f"vm-{NET}", f"{VM_MAC} {VM_IP}")
        # the "VM": a veth from the chassis namespace, with the route DHCP's option 121 would give
        run("ip", "-n", chassis_ns, "link", "add", vm_veth, "type", "veth", "peer", "name", "eth0", "netns", vm_ns)
        run("ip", "netns", "exec", chassis_ns, "ethtool", "-K", vm_veth, "tx", "off")
        run("ip", "netns", "exec", vm_ns, "ethtool", "-K", "eth0", "tx", "off")
        run("ip", "-n", chassis_ns, "link", "set", vm_veth, "up")
        run("ip", "-n", vm_ns, "link", "set", "eth0", "address", VM_MAC, "mtu", "1442", "up")
        run("ip", "-n", vm_ns, "addr", "add", f"{VM_IP}/24", "dev", "eth0")
        run("ip", "-n", vm_ns, "addr", "add", f"{STRANGER_IP}/24", "dev", "eth0")
        run("ip", "-n", vm_ns, "route", "add", "169.254.169.254/32", "via", MD_IP)
        chassis.ovs.add_port("br-int", vm_veth, iface_id=f"vm-{NET}")
        proxies = MetadataProxies(config, bus, chassis.ovs, netns=chassis_ns)
        yield Lab(prefix, host, chassis_ns, vm_ns, proxies, chassis, stub, vm_uuid)
    finally:
        try:
            if proxies is not None:
                proxies.close()
        finally:
            for ns in metadata_netns.own_namespaces(host).values():  # should be none left: checked by a test
                run("ip", "netns", "del", ns, check=False)
            chassis.stop()
            central.stop()
            bus.close()
            api.stop()
            db.dispose()
            for ns in created:
                run("ip", "netns", "del", ns, check=False)
            shutil.rmtree(state, ignore_errors=True)


def test_guest_gets_metadata_over_tcp(lab: Lab) -> None:
    assert lab.proxies.ensure(NET) is True
    assert lab.proxies.ensure(NET) is True  # idempotent
    names = lab.proxies.names(NET)
    assert names.host_dev in lab.chassis.ovs.list_ports("br-int")
    assert lab.chassis.ovs.interface_external_ids(names.host_dev)["iface-id"] == f"md-{NET}"
    inner = run("ip", "-n", names.namespace, "addr", "show", "dev", names.ns_dev).stdout
    assert f"inet {MD_IP}/24" in inner and "inet 169.254.169.254/32" in inner and MD_MAC in inner
    assert "mtu 1442" in inner
    wait_for(lambda: lab.get("/latest/meta-data/hostname") == (200, "e2e-vm"), DEADLINE, "the guest's hostname")
    code, instance_id = lab.get("/latest/meta-data/instance-id")
    assert code == 200 and instance_id == "i-" + lab.vm_uuid.replace("-", "")[:8]
    code, doc = lab.get("/openstack/latest/meta_data.json")
    assert code == 200 and f'"uuid": "{lab.vm_uuid}"' in doc
    # ~54 KiB of user data: many full-size TCP segments through the userspace datapath both ways
    code, body = lab.get("/latest/user-data")
    assert code == 200 and body.encode() == USER_DATA
    assert ("lookup_instance", (NET, VM_IP)) in lab.stub.calls


def test_unknown_source_address_is_404(lab: Lab) -> None:
    lab.proxies.ensure(NET)
    wait_for(lambda: lab.get("/latest/meta-data/hostname")[0] == 200, DEADLINE, "the proxy")
    assert lab.get("/latest/meta-data/hostname", source=STRANGER_IP)[0] == 404


def test_ensure_repairs_a_deleted_namespace(lab: Lab) -> None:
    lab.proxies.ensure(NET)
    names = lab.proxies.names(NET)
    # only the name goes: the proxy's socket keeps the namespace (and the veth pair) alive
    run("ip", "netns", "del", names.namespace)
    assert names.namespace not in os.listdir("/run/netns")
    assert lab.proxies.ensure(NET) is True
    listening = run("ip", "netns", "exec", names.namespace, "ss", "-Hltn").stdout
    assert "169.254.169.254:80" in listening  # served from the new namespace
    wait_for(lambda: lab.get("/latest/meta-data/hostname") == (200, "e2e-vm"), DEADLINE, "metadata after repair")


def test_sync_removes_leftovers_of_this_host_only(lab: Lab) -> None:
    lab.proxies.ensure(NET)
    own_leftover = metadata_netns.names(lab.host, "leftover-net").namespace
    other_host = metadata_netns.names(f"{lab.prefix}-other", "leftover-net").namespace
    stray_port = metadata_netns.names(lab.host, "gone-net").host_dev
    try:
        run("ip", "netns", "add", own_leftover)
        run("ip", "netns", "add", other_host)
        lab.chassis.ovs.add_port("br-int", stray_port)  # an OVS port whose device is gone
        served = lab.proxies.sync({NET})
        assert served == {NET}
        namespaces = set(os.listdir("/run/netns"))
        assert own_leftover not in namespaces and other_host in namespaces
        assert stray_port not in lab.chassis.ovs.list_ports("br-int")
        wait_for(lambda: lab.get("/latest/meta-data/hostname") == (200, "e2e-vm"), DEADLINE, "metadata after sync")
    finally:
        run("ip", "netns", "del", own_leftover, check=False)
        run("ip", "netns", "del", other_host, check=False)


def test_release_and_no_metadata_port(lab: Lab) -> None:
    lab.proxies.ensure(NET)
    names = lab.proxies.names(NET)
    lab.proxies.release(NET)
    lab.proxies.release(NET)  # idempotent
    assert names.namespace not in metadata_netns.own_namespaces(lab.host).values()
    assert names.host_dev not in lab.chassis.ovs.list_ports("br-int")
    assert lab.get("/latest/meta-data/hostname")[0] != 200
    assert lab.proxies.ensure("no-metadata-net") is False
    assert lab.proxies.networks() == set()


def test_close_removes_everything(lab: Lab) -> None:
    lab.proxies.ensure(NET)
    wait_for(lambda: lab.get("/latest/meta-data/hostname")[0] == 200, DEADLINE, "the proxy")
    lab.proxies.close()
    assert metadata_netns.own_namespaces(lab.host) == {}
    assert not [p for p in lab.chassis.ovs.list_ports("br-int") if metadata_netns.HOST_DEV.match(p)]
