"""The ComputeDriver contract, run against every implementation (here: fake; libvirt joins in its own job)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path

import pytest

from stratus.compute import messages
from stratus.compute.messages import FlavorSpec, ImageSpec, InstanceInfo, InstanceSpec
from stratus.compute.virt import load_driver
from stratus.compute.virt.base import Capabilities, ComputeDriver, DriverError, InstanceNotFound

UUID = "11111111-2222-3333-4444-555555555555"


class RecordingImages:
    def __init__(self) -> None:
        self.uploads: dict[str, bytes] = {}

    def download(self, image_id: str, dest: Path) -> int:
        dest.write_bytes(b"image")
        return 5

    def upload(self, image_id: str, src: Path) -> None:
        self.uploads[image_id] = src.read_bytes()


DRIVERS: dict[str, Callable[[], ComputeDriver]] = {
    "fake": lambda: load_driver("fake", vcpus=4, memory_mb=8192, disk_gb=40),
}


@pytest.fixture(params=sorted(DRIVERS))
def driver(request: pytest.FixtureRequest) -> ComputeDriver:
    d = DRIVERS[request.param]()
    d.init_host("contract-host")
    return d


def spec(uuid: str = UUID, memory_mb: int = 512) -> InstanceSpec:
    fl = FlavorSpec(flavorid="f", name="f", vcpus=1, memory_mb=memory_mb, root_gb=1)
    return InstanceSpec(
        uuid=uuid, name="vm", hostname="vm", project_id="p", user_id="u", flavor=fl, image=ImageSpec(id="img")
    )


def test_interface_is_small_and_documented() -> None:
    abstract = sorted(ComputeDriver.__abstractmethods__)
    assert len(abstract) <= 20
    for name in abstract:
        assert inspect.getdoc(getattr(ComputeDriver, name)), name
    assert Capabilities.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_host_resources(driver: ComputeDriver) -> None:
    res = driver.get_host_resources()
    assert res.hypervisor_hostname and res.vcpus > 0 and res.memory_mb > 0 and res.disk_gb > 0


def test_spawn_list_destroy_idempotent(driver: ComputeDriver) -> None:
    images = RecordingImages()
    driver.spawn(spec(), images)
    driver.spawn(spec(), images)  # no duplicate
    assert driver.list_instances() == [InstanceInfo(UUID, messages.RUNNING)]
    driver.destroy(UUID)
    driver.destroy(UUID)
    assert driver.list_instances() == []


def test_power_cycle(driver: ComputeDriver) -> None:
    driver.spawn(spec(), RecordingImages())
    for call, state in [
        (lambda: driver.power_off(UUID, 1), messages.SHUTDOWN),
        (lambda: driver.power_off(UUID, 1), messages.SHUTDOWN),
        (lambda: driver.power_on(UUID), messages.RUNNING),
        (lambda: driver.pause(UUID), messages.PAUSED),
        (lambda: driver.unpause(UUID), messages.RUNNING),
        (lambda: driver.suspend(UUID), messages.SUSPENDED),
        (lambda: driver.resume(UUID), messages.RUNNING),
        (lambda: driver.reboot(UUID, False), messages.RUNNING),
        (lambda: driver.reboot(UUID, True), messages.RUNNING),
    ]:
        call()
        assert driver.get_power_state(UUID) == state


def test_invalid_transitions_raise(driver: ComputeDriver) -> None:
    driver.spawn(spec(), RecordingImages())
    with pytest.raises(DriverError):
        driver.unpause(UUID)
    with pytest.raises(DriverError):
        driver.resume(UUID)


def test_unknown_instance_raises_not_found(driver: ComputeDriver) -> None:
    for call in (
        lambda: driver.power_off("nope"),
        lambda: driver.power_on("nope"),
        lambda: driver.get_power_state("nope"),
        lambda: driver.get_console_output("nope"),
        lambda: driver.snapshot("nope", "img", RecordingImages()),
    ):
        with pytest.raises(InstanceNotFound):
            call()


def test_resize_confirm_and_revert(driver: ComputeDriver) -> None:
    images = RecordingImages()
    driver.spawn(spec(), images)
    driver.resize(spec(memory_mb=1024), images)
    driver.confirm_resize(UUID)
    driver.confirm_resize(UUID)
    driver.resize(spec(memory_mb=2048), images)
    driver.revert_resize(spec(memory_mb=1024))
    assert driver.get_power_state(UUID) == messages.RUNNING


def test_rebuild_keeps_guest_running(driver: ComputeDriver) -> None:
    driver.spawn(spec(), RecordingImages())
    driver.power_off(UUID)
    driver.rebuild(spec(), RecordingImages())
    assert driver.get_power_state(UUID) == messages.RUNNING


def test_snapshot_uploads_data(driver: ComputeDriver) -> None:
    images = RecordingImages()
    driver.spawn(spec(), images)
    driver.snapshot(UUID, "snap-1", images)
    assert images.uploads["snap-1"]


def test_console_output_length(driver: ComputeDriver) -> None:
    driver.spawn(spec(), RecordingImages())
    full = driver.get_console_output(UUID)
    assert full.endswith("\n") and full.count("\n") >= 2
    assert driver.get_console_output(UUID, 1).count("\n") == 1
    assert driver.get_console_output(UUID, 0) == ""


def test_event_listener_can_be_cleared(driver: ComputeDriver) -> None:
    seen: list[InstanceInfo] = []
    driver.set_event_listener(seen.append)
    driver.set_event_listener(None)
    driver.spawn(spec(), RecordingImages())
    driver.power_off(UUID)
    assert seen == []


def test_unknown_driver_name() -> None:
    with pytest.raises(ValueError, match="unknown compute driver"):
        load_driver("no-such-driver")
