"""Real guests through the real ``openstack`` CLI: the libvirt driver's acceptance scenario.

One cloud (``libvirt_cloud``), tests in file order sharing servers where the scenario allows, so
the whole module stays within a few minutes of TCG boots on two cores.
"""

from __future__ import annotations

import re
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.clients.osc import OscError, osc, run
from tests.e2e.conftest import LibvirtCloud, instance_dir

pytestmark = [pytest.mark.root]

BOOT = r"^STRATUS-TESTVM-BOOT kernel=\S+ mem_kb=(\d+) cpus=\d+\r?$"
READY = r"^STRATUS-TESTVM-READY\r?$"
CONSOLE_TIMEOUT = 60.0
STATE: dict[str, Any] = {}


def wait_status(cloud: LibvirtCloud, server: str, status: str, timeout: float = 90.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        info = osc(cloud, "server", "show", server)
        if info["status"] == status:
            return info
        if info["status"] == "ERROR" and status != "ERROR" or time.monotonic() > deadline:
            raise AssertionError(f"{server} is {info['status']}, not {status}: {info.get('fault')}")
        time.sleep(0.5)  # polling the API, bounded by the deadline


def console(cloud: LibvirtCloud, server: str, lines: int | None = None) -> str:
    return run(cloud, "console", "log", "show", *(["--lines", str(lines)] if lines else []), server)


def wait_console(
    cloud: LibvirtCloud, server: str, pattern: str, count: int = 1, timeout: float = CONSOLE_TIMEOUT
) -> list:
    """Wait until ``pattern`` appears ``count`` times on the server's console (through os-getConsoleOutput)."""
    regex = re.compile(pattern, re.MULTILINE)
    deadline = time.monotonic() + timeout
    while True:
        text = console(cloud, server)
        found = regex.findall(text)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} x{count} not on the console of {server}:\n{text[-3000:]}")
        time.sleep(1.0)  # polling the API, bounded by the deadline


def wait_ready(cloud: LibvirtCloud, server: str, timeout: float = CONSOLE_TIMEOUT) -> None:
    """Wait until the current boot (after the last boot marker) reached READY: acpid then answers the power button."""
    deadline = time.monotonic() + timeout
    while True:
        text = console(cloud, server)
        if re.search(READY, text.rsplit("STRATUS-TESTVM-BOOT", 1)[-1], re.MULTILINE):
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{server} did not get READY:\n{text[-3000:]}")
        time.sleep(1.0)  # polling the API, bounded by the deadline


def domains(cloud: LibvirtCloud) -> dict[str, int]:
    """uuid -> libvirt state of every domain on the cloud's private libvirtd (what `virsh list --all` shows)."""
    import libvirt

    conn = libvirt.open(cloud.uri)
    try:
        return {d.UUIDString(): d.state()[0] for d in conn.listAllDomains(0)}
    finally:
        conn.close()


def qemu_running(server_id: str) -> bool:
    return (
        subprocess.run(["pgrep", "-f", f"qemu-system-x86_64 -name guest={server_id}"], capture_output=True).returncode
        == 0
    )


def create(cloud: LibvirtCloud, name: str, *extra: str, image: str = "testvm", flavor: str = "m1.tiny") -> dict:
    return osc(cloud, "server", "create", "--image", image, "--flavor", flavor, "--nic", "none", *extra, name)


@pytest.fixture(scope="module", autouse=True)
def flavors(libvirt_cloud: LibvirtCloud) -> None:
    existing = {f["Name"] for f in osc(libvirt_cloud, "flavor", "list", "--all")}
    for name, ram, disk in (("m1.tiny", 256, 1), ("m1.small", 512, 2)):
        if name not in existing:
            osc(libvirt_cloud, "flavor", "create", "--ram", str(ram), "--disk", str(disk), "--vcpus", "1", name)


def test_boot_console_stop_start_reboot(libvirt_cloud: LibvirtCloud) -> None:
    cloud = libvirt_cloud
    started = time.monotonic()
    server = create(cloud, "lv-vm1", "--wait")
    assert server["status"] == "ACTIVE"
    sid = server["id"]
    STATE["vm1"] = sid
    wait_console(cloud, sid, BOOT, timeout=CONSOLE_TIMEOUT - (time.monotonic() - started))
    assert len(console(cloud, sid, lines=2).splitlines()) <= 2
    assert domains(cloud).get(sid) is not None and (instance_dir(cloud, sid) / "disk.qcow2").exists()
    wait_ready(cloud, sid)

    run(cloud, "server", "stop", sid)
    wait_status(cloud, sid, "SHUTOFF")
    assert not qemu_running(sid)
    run(cloud, "server", "start", sid)
    wait_status(cloud, sid, "ACTIVE")
    wait_console(cloud, sid, BOOT, count=2)
    run(cloud, "server", "reboot", "--hard", "--wait", sid)
    wait_status(cloud, sid, "ACTIVE")
    wait_console(cloud, sid, BOOT, count=3)


def test_snapshot_boots_then_rebuild(libvirt_cloud: LibvirtCloud) -> None:
    cloud = libvirt_cloud
    sid = STATE["vm1"]
    snap = osc(cloud, "server", "image", "create", "--name", "lv-snap", "--wait", sid)
    STATE["snap"] = snap["id"]
    vm2 = create(cloud, "lv-vm2", "--wait", image="lv-snap")
    STATE["vm2"] = vm2["id"]
    wait_console(cloud, vm2["id"], BOOT)
    run(cloud, "server", "rebuild", "--image", "testvm", "--wait", vm2["id"])
    wait_status(cloud, vm2["id"], "ACTIVE")
    wait_console(cloud, vm2["id"], BOOT, count=2)


def test_guest_powering_itself_off_shows_shutoff(libvirt_cloud: LibvirtCloud) -> None:
    """The guest's OS powers off (ACPI from outside Stratus, as `virsh shutdown` would): SHUTOFF within 10 s."""
    import libvirt

    cloud = libvirt_cloud
    vm2 = STATE["vm2"]
    wait_ready(cloud, vm2)
    conn = libvirt.open(cloud.uri)
    try:
        conn.lookupByUUIDString(vm2).shutdownFlags(libvirt.VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN)
    finally:
        conn.close()
    wait_console(cloud, vm2, r"^STRATUS-TESTVM-POWEROFF\r?$", timeout=30)
    wait_status(cloud, vm2, "SHUTOFF", timeout=10)


def test_resize_confirm_guest_sees_new_ram(libvirt_cloud: LibvirtCloud) -> None:
    cloud = libvirt_cloud
    sid = STATE["vm1"]
    before = int(wait_console(cloud, sid, BOOT, count=3)[-1])
    run(cloud, "server", "resize", "--flavor", "m1.small", "--wait", sid)
    wait_status(cloud, sid, "VERIFY_RESIZE")
    run(cloud, "server", "resize", "confirm", sid)
    wait_status(cloud, sid, "ACTIVE")
    after = int(wait_console(cloud, sid, BOOT, count=4)[-1])
    assert after > before, (before, after)
    assert not list(instance_dir(cloud, sid).glob("*.resize"))


def test_agent_killed_and_restarted(libvirt_cloud: LibvirtCloud) -> None:
    """kill -9 with 3 guests running and 1 building: the 3 stay untouched, the 4th never sticks in BUILD."""
    cloud = libvirt_cloud
    run(cloud, "server", "start", STATE["vm2"])
    wait_status(cloud, STATE["vm2"], "ACTIVE")
    vm3 = create(cloud, "lv-vm3", "--wait")["id"]
    running = [STATE["vm1"], STATE["vm2"], vm3]
    pids = {sid: _qemu_pid(sid) for sid in running}
    building = create(cloud, "lv-vm4")["id"]
    deadline = time.monotonic() + 30
    while (
        osc(cloud, "server", "show", building).get("OS-EXT-SRV-ATTR:host") in (None, "") and time.monotonic() < deadline
    ):
        time.sleep(0.1)  # wait for the build to reach the host, bounded
    cloud.kill()
    cloud.start()
    for sid in running:
        assert wait_status(cloud, sid, "ACTIVE")["status"] == "ACTIVE"
        assert _qemu_pid(sid) == pids[sid], "a running guest was restarted"
    deadline = time.monotonic() + 60
    while (info := osc(cloud, "server", "show", building))["status"] == "BUILD" and time.monotonic() < deadline:
        time.sleep(0.5)
    assert info["status"] in ("ACTIVE", "ERROR"), info
    if info["status"] == "ERROR":
        assert info.get("fault"), info
    uuids = list(domains(cloud))
    assert len(uuids) == len(set(uuids))
    STATE["more"] = [vm3, building]


def test_delete_leaves_nothing(libvirt_cloud: LibvirtCloud) -> None:
    cloud = libvirt_cloud
    servers = [STATE["vm1"], STATE["vm2"], *STATE.get("more", [])]
    osc(cloud, "server", "delete", "--wait", *servers)
    left = domains(cloud)
    assert not set(servers) & set(left), left
    for sid in servers:
        assert not instance_dir(cloud, sid).exists()
        assert not qemu_running(sid)
    cache = cloud.state_dir / "image-cache"
    assert not [p for p in cache.iterdir() if not p.name.startswith(".")] if cache.exists() else True
    osc(cloud, "image", "delete", STATE["snap"])


def _qemu_pid(server_id: str) -> int:
    out = subprocess.run(["pgrep", "-f", f"qemu-system-x86_64 -name guest={server_id}"], capture_output=True, text=True)
    return int(out.stdout.split()[0])


def _image(cloud: LibvirtCloud, name: str, path: Path, disk_format: str, *extra: str) -> dict:
    return osc(cloud, "image", "create", "--file", str(path), "--disk-format", disk_format,
               "--container-format", "bare", *extra, name)  # fmt: skip


def _fails_cleanly(cloud: LibvirtCloud, name: str, image: str, words: tuple[str, ...]) -> None:
    """The server ends in ERROR with a fault naming the problem (or the API refuses it); nothing left on the host."""
    before = set(domains(cloud))
    try:
        server = create(cloud, name, image=image)
    except OscError as exc:  # refused up front is as good
        assert any(w in str(exc).lower() for w in words), exc
        return
    info = wait_status(cloud, server["id"], "ERROR", timeout=60)
    message = str(info.get("fault")).lower()
    assert any(w in message for w in words), info.get("fault")
    assert set(domains(cloud)) == before
    assert not instance_dir(cloud, server["id"]).exists()
    osc(cloud, "server", "delete", "--wait", server["id"])


def test_bad_input_errors_cleanly(libvirt_cloud: LibvirtCloud, tmp_path: Path) -> None:
    cloud = libvirt_cloud
    suffix = uuid.uuid4().hex[:6]
    vmdk = tmp_path / "x.vmdk"  # the image service takes it; this hypervisor boots only raw and qcow2
    subprocess.run(["qemu-img", "create", "-q", "-f", "vmdk", str(vmdk), "64M"], check=True)
    _image(cloud, f"lv-vmdk-{suffix}", vmdk, "vmdk")
    _fails_cleanly(cloud, f"lv-bad-vmdk-{suffix}", f"lv-vmdk-{suffix}", ("disk_format", "cannot boot", "vmdk"))

    big = tmp_path / "big.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(big), "3G"], check=True)
    _image(cloud, f"lv-big-{suffix}", big, "qcow2")
    _fails_cleanly(cloud, f"lv-bad-big-{suffix}", f"lv-big-{suffix}", ("smaller", "virtual size", "disk"))

    small = tmp_path / "small.qcow2"
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", str(small), "64M"], check=True)
    _image(cloud, f"lv-mind-{suffix}", small, "qcow2", "--min-disk", "5")
    _fails_cleanly(cloud, f"lv-bad-mind-{suffix}", f"lv-mind-{suffix}", ("min_disk", "smaller", "disk"))

    for name in ("vmdk", "big", "mind"):
        osc(cloud, "image", "delete", f"lv-{name}-{suffix}")
