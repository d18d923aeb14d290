"""FakeDriver specifics beyond the driver contract: sizes, failure injection, events, orphans."""

from __future__ import annotations

from pathlib import Path

import pytest

from stratus.compute import messages
from stratus.compute.messages import FlavorSpec, InstanceInfo, InstanceSpec
from stratus.compute.virt import load_driver
from stratus.compute.virt.base import DriverError
from stratus.compute.virt.fake import FakeDriver


class NoImages:
    def download(self, image_id: str, dest: Path) -> int:
        raise AssertionError("the fake driver does not download")

    def upload(self, image_id: str, src: Path) -> None:
        raise AssertionError("not expected")


def spec(uuid: str, name: str = "vm") -> InstanceSpec:
    fl = FlavorSpec(flavorid="f", name="f", vcpus=2, memory_mb=1024, root_gb=1)
    return InstanceSpec(uuid=uuid, name=name, hostname=name, project_id="p", user_id="u", flavor=fl)


def test_size_is_configurable_and_registered_by_name() -> None:
    driver = load_driver("fake", vcpus=2, memory_mb=1024, disk_gb=10)
    assert isinstance(driver, FakeDriver)
    driver.init_host("tiny")
    res = driver.get_host_resources()
    assert (res.hypervisor_hostname, res.vcpus, res.memory_mb, res.disk_gb) == ("tiny", 2, 1024, 10)
    assert res.cpu_info["arch"] == "x86_64"


def test_hundreds_of_hosts_are_cheap() -> None:
    drivers = [FakeDriver(1, 512, 1) for _ in range(500)]
    for i, d in enumerate(drivers):
        d.init_host(f"h{i}")
        d.spawn(spec(f"u{i}"), NoImages())
    assert sum(len(d.list_instances()) for d in drivers) == 500


def test_failure_injection_by_uuid_name_and_flag() -> None:
    driver = FakeDriver(fail_spawn={"bad-uuid", "bad-name"})
    with pytest.raises(DriverError, match="injected"):
        driver.spawn(spec("bad-uuid"), NoImages())
    with pytest.raises(DriverError, match="injected"):
        driver.spawn(spec("u2", name="bad-name"), NoImages())
    driver.spawn(spec("fine"), NoImages())
    driver.fail_all_spawns = "host is on fire"
    with pytest.raises(DriverError, match="host is on fire"):
        driver.spawn(spec("u3"), NoImages())
    assert [g.uuid for g in driver.list_instances()] == ["fine"]


def test_simulated_power_change_fires_event() -> None:
    driver = FakeDriver()
    seen: list[InstanceInfo] = []
    driver.set_event_listener(seen.append)
    driver.spawn(spec("u1"), NoImages())
    driver.simulate_power_change("u1", messages.CRASHED)
    assert seen == [InstanceInfo("u1", messages.CRASHED)]
    driver.power_on("u1")
    assert driver.get_power_state("u1") == messages.RUNNING


def test_orphans_show_in_the_list() -> None:
    driver = FakeDriver()
    driver.add_orphan(spec("ghost"))
    assert driver.list_instances() == [InstanceInfo("ghost", messages.RUNNING)]


def test_console_has_boot_lines() -> None:
    driver = FakeDriver()
    driver.spawn(spec("u1", name="web"), NoImages())
    out = driver.get_console_output("u1")
    assert "Linux version" in out and "web login:" in out and "1048576K" in out


def test_soft_reboot_of_stopped_guest_fails_but_hard_reboot_starts_it() -> None:
    driver = FakeDriver()
    driver.spawn(spec("u1"), NoImages())
    driver.power_off("u1")
    with pytest.raises(DriverError):
        driver.reboot("u1", hard=False)
    driver.reboot("u1", hard=True)
    assert driver.get_power_state("u1") == messages.RUNNING
