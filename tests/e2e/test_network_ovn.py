"""Issue 6's acceptance on real parts: guests on OVN networks, through the ``openstack`` CLI.

One all-in-one cloud (libvirt + QEMU TCG guests, OVN central, ovs-vswitchd on the userspace datapath,
ovn-controller, the network agent and its metadata proxies) runs inside a network namespace of this
test's own, which plays the host: the cloud's bridges, taps and addresses never meet a `stratus up`
running on the machine, and "the host reaches the floating IP" means this namespace does. The test
process itself enters the namespace for the module (sockets it opens and commands it runs are there).

Tests run in file order and share their servers: TCG boots take seconds each on two cores.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import tomllib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tests.clients.osc import osc, run
from tests.conftest import stop_process, stratus_env, write_config
from tests.e2e.conftest import LibvirtCloud, _libvirt_missing, dump_toml

pytestmark = [pytest.mark.root]

DEMO = "stratus-demo"
IP_LINE = r"^STRATUS-TESTVM-IP iface=eth0 addr=(\S+) router=(\S+) mtu=(\d+)\r?$"
METADATA_LINE = r"^STRATUS-TESTVM-METADATA ok hostname=(\S+) instance_id=(\S+)\r?$"
BOOT_TIMEOUT = 150.0
STATE: dict[str, Any] = {}


def _ovn_missing() -> str | None:
    for tool in ("ovsdb-server", "ovs-vswitchd", "ovn-northd", "ovn-controller", "ip", "busybox"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (bash scripts/install-debs.sh)"
    return None


def _kill_namespace_processes(ns: str) -> None:
    pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
    for pid in pids:
        try:
            os.kill(int(pid), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


@pytest.fixture(scope="module")
def ovn_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LibvirtCloud]:
    reason = _libvirt_missing() or _ovn_missing()
    if reason:
        pytest.skip(reason)
    from pyroute2 import netns

    ns = f"stratus-e2e-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    handle: LibvirtCloud | None = None
    try:
        subprocess.run(["ip", "-n", ns, "link", "set", "lo", "up"], check=True)
        netns.pushns(ns)
        try:
            base = tmp_path_factory.mktemp("ovncloud")
            config = write_config(base, db_prefix="stratus_e2e_ovn")
            settings = tomllib.loads(config.read_text())
            settings["compute"]["image_url"] = f"http://127.0.0.1:{settings['image']['port']}"
            settings["network"]["backend"] = "ovn"
            settings["network"]["resync_interval"] = 10.0
            settings["network_agent"] = {"enabled": True}
            settings["compute_agent"] = {
                "driver": "libvirt",
                "fake_hosts": 1,
                "libvirt_daemon": "private",
                "sync_power_state_interval": 30.0,
                "vif_plugging_timeout": 60.0,
            }
            config.write_text(dump_toml(settings))
            env = stratus_env(config, base)
            handle = LibvirtCloud(base=base, config=config, env=env, process=None, log=base / "serve.log")  # type: ignore[arg-type]
            handle.start()
            yield handle
        finally:
            try:
                if handle is not None and handle.process is not None:
                    stop_process(handle.process, timeout=60)
            finally:
                if handle is not None:
                    from stratus.cli.hostdaemons import stop_libvirt

                    stop_libvirt(handle.state_dir)
                netns.popns()
    finally:
        _kill_namespace_processes(ns)
        subprocess.run(["ip", "netns", "del", ns], check=False)


def console(cloud: LibvirtCloud, server: str, os_cloud: str = DEMO) -> str:
    return run(cloud, "console", "log", "show", server, os_cloud=os_cloud)


def wait_console(cloud: LibvirtCloud, server: str, pattern: str, *, os_cloud: str = DEMO) -> re.Match[str]:
    regex = re.compile(pattern, re.MULTILINE)
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        text = console(cloud, server, os_cloud)
        found = regex.search(text)
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} not on the console of {server}:\n{text[-3000:]}")
        time.sleep(1.0)  # polling the console API, bounded by the deadline


def create_server(cloud: LibvirtCloud, name: str, network: str, *extra: str, os_cloud: str = DEMO) -> dict[str, Any]:
    server = osc(
        cloud, "server", "create", "--image", "testvm", "--flavor", "m1.tiny", "--network", network, *extra,
        name, os_cloud=os_cloud,
    )  # fmt: skip
    return server


def wait_active(cloud: LibvirtCloud, server: str, os_cloud: str = DEMO) -> dict[str, Any]:
    deadline = time.monotonic() + BOOT_TIMEOUT
    while True:
        info = osc(cloud, "server", "show", server, os_cloud=os_cloud)
        if info["status"] == "ACTIVE":
            return info
        if info["status"] == "ERROR" or time.monotonic() > deadline:
            raise AssertionError(f"{server} is {info['status']}: {info.get('fault')}\n{cloud.log_tail(60)}")
        time.sleep(0.5)  # polling the API, bounded by the deadline


def port_of(cloud: LibvirtCloud, server_id: str, os_cloud: str = DEMO) -> dict[str, Any]:
    (port,) = osc(cloud, "port", "list", "--server", server_id, "--long", os_cloud=os_cloud)
    return osc(cloud, "port", "show", port["ID"], os_cloud=os_cloud)


def pings(address: str, count: int = 1, wait: float = 1.0) -> bool:
    # busybox's ping: Debian's iputils-ping is not installed on these machines
    result = subprocess.run(
        ["busybox", "ping", "-c", str(count), "-W", str(max(1, round(wait))), address], capture_output=True
    )
    return result.returncode == 0


def http_get(address: str, path: str = "/hostname", timeout: float = 3.0) -> str | None:
    """One HTTP GET over a plain TCP socket (the guest's busybox httpd); None if no answer."""
    try:
        with socket.create_connection((address, 80), timeout=timeout) as sock:
            sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n".encode())
            data = b""
            while chunk := sock.recv(4096):
                data += chunk
    except OSError:
        return None
    head, _, body = data.partition(b"\r\n\r\n")
    return body.decode(errors="replace").strip() if head.startswith(b"HTTP/1") and b" 200 " in head[:20] else None


def wait_for(condition: Any, timeout: float, step: float = 0.2) -> float | None:
    """Seconds until ``condition()`` is true, or None after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(step)  # polling a condition against a deadline
    return None


def test_seeded_networks_and_router(ovn_cloud: LibvirtCloud) -> None:
    names = {n["Name"] for n in osc(ovn_cloud, "network", "list", os_cloud=DEMO)}
    assert {"public", "private"} <= names
    router = osc(ovn_cloud, "router", "show", "router1", os_cloud=DEMO)
    assert router["external_gateway_info"]["external_fixed_ips"]
    # the host holds the external network's gateway address
    assert "172.24.4.1/24" in subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True).stdout


def test_servers_get_dhcp_addresses_and_metadata(ovn_cloud: LibvirtCloud) -> None:
    cloud = ovn_cloud
    # another project's network and server, for the isolation check later
    other_net = osc(cloud, "network", "create", "e2e-other")
    osc(cloud, "subnet", "create", "--network", other_net["id"], "--subnet-range", "10.9.0.0/24", "e2e-other-sub")
    names = {"b": f"e2e-b-{uuid.uuid4().hex[:4]}", "c": f"e2e-c-{uuid.uuid4().hex[:4]}"}
    b = create_server(cloud, names["b"], "private")
    c = create_server(cloud, names["c"], "e2e-other", os_cloud="stratus")
    for key, server, os_cloud in (("b", b, DEMO), ("c", c, "stratus")):
        wait_active(cloud, server["id"], os_cloud)
        port = port_of(cloud, server["id"], os_cloud)
        fixed = port["fixed_ips"][0]["ip_address"]
        ip_line = wait_console(cloud, server["id"], IP_LINE, os_cloud=os_cloud)
        assert ip_line.group(1).split("/")[0] == fixed, ip_line.group(0)
        assert ip_line.group(3) == "1442"  # Geneve MTU handed out by OVN's DHCP
        md = wait_console(cloud, server["id"], METADATA_LINE, os_cloud=os_cloud)
        # EC2 instance ids are i-<8 hex>; ours are the first 8 hex digits of the server's uuid
        assert md.group(1) == names[key] and md.group(2) == f"i-{server['id'][:8]}"
        shown = osc(cloud, "server", "show", server["id"], os_cloud=os_cloud)
        assert fixed in str(shown["addresses"])
        assert osc(cloud, "port", "show", port["id"], os_cloud=os_cloud)["status"] == "ACTIVE"
        STATE[key] = {"id": server["id"], "name": names[key], "ip": fixed, "port": port["id"]}


def test_same_network_reaches_other_project_does_not(ovn_cloud: LibvirtCloud) -> None:
    cloud = ovn_cloud
    b_ip, c_ip = STATE["b"]["ip"], STATE["c"]["ip"]
    script = (
        "#!/bin/sh\n"
        f"ping -c 3 -W 2 {b_ip} >/dev/null 2>&1; echo E2E-PING-B rc=$?\n"
        f'echo "E2E-HTTP-B body=$(wget -q -O - http://{b_ip}/hostname 2>/dev/null)"\n'
        f"ping -c 3 -W 2 {c_ip} >/dev/null 2>&1; echo E2E-PING-C rc=$?\n"
    )
    user_data = cloud.base / "a-user-data.sh"
    user_data.write_text(script)
    a = create_server(cloud, f"e2e-a-{uuid.uuid4().hex[:4]}", "private", "--user-data", str(user_data))
    wait_active(cloud, a["id"])
    STATE["a"] = {"id": a["id"], "port": port_of(cloud, a["id"])["id"]}
    assert wait_console(cloud, a["id"], r"^E2E-PING-B rc=(\d+)").group(1) == "0"
    assert wait_console(cloud, a["id"], r"^E2E-HTTP-B body=(.*?)\r?$").group(1) == STATE["b"]["name"]
    assert wait_console(cloud, a["id"], r"^E2E-PING-C rc=(\d+)").group(1) != "0"


def test_floating_ip_and_security_group_rules(ovn_cloud: LibvirtCloud) -> None:
    cloud = ovn_cloud
    fip = osc(cloud, "floating ip", "create", "public", os_cloud=DEMO)
    address = fip["floating_ip_address"]
    run(cloud, "server", "add", "floating", "ip", STATE["b"]["id"], address, os_cloud=DEMO)
    STATE["fip"] = address
    # the default group admits only its own members: the host is blocked
    assert wait_for(lambda: pings(address), timeout=5) is None
    assert http_get(address, timeout=2) is None

    icmp = osc(cloud, "security group rule", "create", "--protocol", "icmp", "--ingress", "default", os_cloud=DEMO)
    took = wait_for(lambda: pings(address, wait=0.5), timeout=10)
    assert took is not None, "ping to the floating IP never answered after the ICMP rule"
    assert took <= 2.0, f"the ICMP rule took {took:.2f} s to work"
    tcp = osc(
        cloud, "security group rule", "create", "--protocol", "tcp", "--dst-port", "80", "--ingress", "default",
        os_cloud=DEMO,
    )  # fmt: skip
    took = wait_for(lambda: http_get(address, timeout=1) == STATE["b"]["name"], timeout=10)
    assert took is not None and took <= 2.0, f"TCP through the floating IP: {took}"

    run(cloud, "security group rule", "delete", icmp["id"], tcp["id"], os_cloud=DEMO)
    assert wait_for(lambda: not pings(address, wait=0.5), timeout=5) is not None
    assert http_get(address, timeout=2) is None


@contextmanager
def icmp_allowed(cloud: LibvirtCloud) -> Iterator[None]:
    """An ICMP ingress rule in the demo project's default group for the block, removed even if the block fails
    (a rule left behind makes the next test's identical rule a 409)."""
    rule = osc(cloud, "security group rule", "create", "--protocol", "icmp", "--ingress", "default", os_cloud=DEMO)
    try:
        yield
    finally:
        run(cloud, "security group rule", "delete", rule["id"], os_cloud=DEMO)


def _nat_rows(cloud: LibvirtCloud, router: str) -> tuple[str, str]:
    """The NB router's uuid and its NAT listing ("" when the router is not in the NB DB)."""
    nb = f"--db=unix:{cloud.state_dir / 'ovn' / 'nb.sock'}"
    name = "neutron-" + router
    found = subprocess.run(["ovn-nbctl", nb, "--bare", "--columns=_uuid", "find", "Logical_Router", f'name="{name}"'],
                           capture_output=True, text=True)  # fmt: skip
    nat = subprocess.run(["ovn-nbctl", nb, "lr-nat-list", name], capture_output=True, text=True)
    return found.stdout.strip(), nat.stdout if nat.returncode == 0 else ""


def test_wiped_northbound_db_is_restored_without_an_api_call(ovn_cloud: LibvirtCloud) -> None:
    cloud = ovn_cloud
    address = STATE["fip"]
    router = router_id(cloud)
    with icmp_allowed(cloud):
        assert wait_for(lambda: pings(address, wait=0.5), timeout=10) is not None
        before, _ = _nat_rows(cloud, router)
        assert before, "the demo router is not in the NB DB before the wipe"
        ovn = cloud.state_dir / "ovn"
        pid = int((ovn / "ovsdb-nb.pid").read_text().split()[0])
        (ovn / "nb.db").unlink()
        os.kill(pid, signal.SIGKILL)
        # the supervisor restarts the NB server on a new, empty file; the resync loop refills it
        assert wait_for(lambda: (ovn / "nb.db").exists() and _nb_pid(ovn) not in (None, pid), timeout=10) is not None

        def restored() -> bool:
            uuid_now, nat = _nat_rows(cloud, router)
            return bool(uuid_now) and uuid_now != before and address in nat

        # first the rebuilt rows (a new router row holding the floating IP's NAT), then traffic through them:
        # a ping alone could still be answered by flows ovn-controller kept from before the wipe
        took = wait_for(restored, timeout=30, step=0.5)
        assert took is not None, f"the router and its NAT were not back within 30 s\n{cloud.log_tail(60)}"
        took = wait_for(lambda: pings(address, wait=0.5), timeout=30, step=0.5)
        assert took is not None, f"the floating IP did not answer within 30 s of the rebuild\n{cloud.log_tail(60)}"


def test_guests_come_back_after_the_cloud_restarts(ovn_cloud: LibvirtCloud) -> None:
    """``stratus down`` / ``up``: the guests that ran are booted again, on their taps, and answer again."""
    cloud = ovn_cloud
    address = STATE["fip"]
    with icmp_allowed(cloud):
        assert wait_for(lambda: pings(address, wait=0.5), timeout=10) is not None
        boots = console(cloud, STATE["b"]["id"]).count("STRATUS-TESTVM-BOOT")
        stop_process(cloud.process, timeout=60)
        cloud.start()
        took = wait_for(lambda: pings(address, wait=0.5), timeout=120, step=0.5)
        assert took is not None, f"the floating IP did not answer after the restart\n{cloud.log_tail(60)}"
        assert console(cloud, STATE["b"]["id"]).count("STRATUS-TESTVM-BOOT") == boots + 1
        assert osc(cloud, "server", "show", STATE["b"]["id"], os_cloud=DEMO)["status"] == "ACTIVE"


def _nb_pid(ovn: Any) -> int | None:
    try:
        return int((ovn / "ovsdb-nb.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def router_id(cloud: LibvirtCloud) -> str:
    return str(osc(cloud, "router", "show", "router1", os_cloud=DEMO)["id"])


def test_delete_releases_ports_and_taps(ovn_cloud: LibvirtCloud) -> None:
    cloud = ovn_cloud
    for key, os_cloud in (("a", DEMO), ("b", DEMO), ("c", "stratus")):
        run(cloud, "server", "delete", "--wait", STATE[key]["id"], os_cloud=os_cloud)
    remaining = {p["ID"] for p in osc(cloud, "port", "list")}  # the admin sees every project's ports
    assert not {STATE[k]["port"] for k in "abc"} & remaining
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert not re.search(r"\btap[0-9a-f]{8}-", links), links
