"""The fake hypervisor: in memory, deterministic and instant, for tests and scale runs.

Hundreds fit in one process (each is a dict and a lock). Host size is set per driver; failures
are injected with ``fail_spawn`` (uuids or names whose spawn fails) or ``fail_all_spawns`` (a
message: every spawn fails with it). ``simulate_power_change`` stands in for a guest crashing or
shutting down by itself and fires the lifecycle event as libvirt would.

Live migration moves a guest between the fake drivers of one process: each registers under its host
name (``init_host``) and ``live_migrate`` hands the guest to the destination's driver, which must have
been prepared by ``pre_live_migration``. ``fail_live_migration`` (a message) makes the move fail.
"""

from __future__ import annotations

import struct
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratus.compute import messages
from stratus.compute.messages import HostResources, InstanceInfo, InstanceSpec
from stratus.compute.virt.base import (
    Capabilities,
    ComputeDriver,
    DriverError,
    EventListener,
    ImageSource,
    InstanceNotFound,
)

FAKE_SNAPSHOT_DATA = b"stratus fake snapshot\n"
_HOSTS: weakref.WeakValueDictionary[str, FakeDriver] = weakref.WeakValueDictionary()
"""The fake driver of each host in this process (the latest to call ``init_host``): live migration's peers."""


def fake_disk_bytes(disk_format: str | None, virtual_size: int) -> bytes:
    """Snapshot data the image service accepts for ``disk_format``: an empty qcow2 (a bare v2 header
    with no backing file) for qcow2 images, a few plain bytes for anything else."""
    if disk_format != "qcow2":
        return FAKE_SNAPSHOT_DATA
    header = struct.pack(">4sIQIIQIIQQIIQ", b"QFI\xfb", 2, 0, 0, 16, virtual_size, 0, 0, 0, 0, 0, 0, 0)
    return header.ljust(512, b"\0")


@dataclass
class FakeGuest:
    spec: InstanceSpec
    power_state: int = messages.RUNNING
    old_spec: InstanceSpec | None = None  # kept by resize until confirm/revert
    console: list[str] = field(default_factory=list)


class FakeDriver(ComputeDriver):
    """A host of ``vcpus``/``memory_mb``/``disk_gb`` whose guests exist only in this object."""

    capabilities = Capabilities(supports_live_migration=True)
    plugs_vifs = False  # a test may set it on one instance to exercise VIF plugging and the vif-plugged wait

    def __init__(
        self,
        vcpus: int = 16,
        memory_mb: int = 32768,
        disk_gb: int = 500,
        *,
        hypervisor_type: str = "fake",
        cpu_arch: str = "x86_64",
        fail_spawn: set[str] | None = None,
        fail_all_spawns: str | None = None,
    ):
        self.vcpus, self.memory_mb, self.disk_gb = vcpus, memory_mb, disk_gb
        self.hypervisor_type = hypervisor_type
        self.cpu_arch = cpu_arch
        self.fail_spawn: set[str] = set(fail_spawn or ())
        self.fail_all_spawns = fail_all_spawns
        self.host: str | None = None
        self._guests: dict[str, FakeGuest] = {}
        self._lock = threading.Lock()
        self._listener: EventListener | None = None
        self._incoming: dict[str, InstanceSpec] = {}  # prepared by pre_live_migration
        self.fail_live_migration: str | None = None

    # host

    def init_host(self, host: str) -> None:
        self.host = host
        _HOSTS[host] = self

    def get_host_resources(self) -> HostResources:
        return HostResources(
            hypervisor_hostname=self.host or "fake",
            vcpus=self.vcpus,
            memory_mb=self.memory_mb,
            disk_gb=self.disk_gb,
            hypervisor_type=self.hypervisor_type,
            cpu_info={"arch": self.cpu_arch, "model": "fake", "vendor": "stratus"},
        )

    def list_instances(self) -> list[InstanceInfo]:
        with self._lock:
            return [InstanceInfo(uuid=u, power_state=g.power_state) for u, g in sorted(self._guests.items())]

    # lifecycle

    def spawn(self, instance: InstanceSpec, images: ImageSource) -> None:
        failure = self.fail_all_spawns
        if failure is None and (instance.uuid in self.fail_spawn or instance.name in self.fail_spawn):
            failure = f"fake spawn failure injected for {instance.name}"
        if failure is not None:
            raise DriverError(failure)
        with self._lock:
            if instance.uuid in self._guests:
                return
            self._guests[instance.uuid] = FakeGuest(spec=instance, console=_boot_lines(instance))

    def destroy(self, instance_uuid: str) -> None:
        with self._lock:
            self._guests.pop(instance_uuid, None)

    def power_off(self, instance_uuid: str, timeout: float = 60.0) -> None:
        self._set_state(instance_uuid, messages.SHUTDOWN, allowed=None)

    def power_on(self, instance_uuid: str) -> None:
        self._set_state(
            instance_uuid, messages.RUNNING, allowed={messages.SHUTDOWN, messages.CRASHED, messages.RUNNING}
        )

    def reboot(self, instance_uuid: str, hard: bool) -> None:
        if not hard and self.get_power_state(instance_uuid) != messages.RUNNING:
            raise DriverError("soft reboot needs a running guest")
        self._set_state(instance_uuid, messages.RUNNING, allowed=None)

    def pause(self, instance_uuid: str) -> None:
        self._set_state(instance_uuid, messages.PAUSED, allowed={messages.RUNNING})

    def unpause(self, instance_uuid: str) -> None:
        self._set_state(instance_uuid, messages.RUNNING, allowed={messages.PAUSED})

    def suspend(self, instance_uuid: str) -> None:
        self._set_state(instance_uuid, messages.SUSPENDED, allowed={messages.RUNNING})

    def resume(self, instance_uuid: str) -> None:
        self._set_state(instance_uuid, messages.RUNNING, allowed={messages.SUSPENDED})

    def rebuild(self, instance: InstanceSpec, images: ImageSource) -> None:
        with self._lock:
            guest = self._guest(instance.uuid)
            guest.spec, guest.power_state, guest.console = instance, messages.RUNNING, _boot_lines(instance)

    def resize(self, instance: InstanceSpec, images: ImageSource, disk_source: dict[str, Any] | None = None) -> None:
        with self._lock:
            guest = self._guests.get(instance.uuid)
            if guest is None:  # arriving from another host
                self._guests[instance.uuid] = FakeGuest(spec=instance, console=_boot_lines(instance))
                return
            guest.old_spec = guest.old_spec or guest.spec
            guest.spec, guest.power_state = instance, messages.RUNNING

    def confirm_resize(self, instance_uuid: str) -> None:
        with self._lock:
            guest = self._guests.get(instance_uuid)
            if guest is not None:
                guest.old_spec = None

    def revert_resize(self, instance: InstanceSpec) -> None:
        with self._lock:
            guest = self._guest(instance.uuid)
            guest.spec, guest.old_spec, guest.power_state = instance, None, messages.RUNNING

    def snapshot(self, instance_uuid: str, image_id: str, images: ImageSource) -> None:
        with self._lock:
            spec = self._guest(instance_uuid).spec  # raises InstanceNotFound
        # like the libvirt driver, snapshot as qcow2 unless the guest's own image says otherwise
        disk_format = (spec.image.disk_format if spec.image else None) or "qcow2"
        with tempfile.TemporaryDirectory(prefix="stratus-fake-snapshot-") as tmp:
            path = Path(tmp) / "disk"
            path.write_bytes(fake_disk_bytes(disk_format, max(spec.flavor.root_gb, 1) * 1024**3))
            images.upload(image_id, path)

    def get_console_output(self, instance_uuid: str, length: int | None = None) -> str:
        with self._lock:
            lines = list(self._guest(instance_uuid).console)
        if length is not None:
            lines = lines[-length:] if length > 0 else []
        return "".join(f"{line}\n" for line in lines)

    def get_power_state(self, instance_uuid: str) -> int:
        with self._lock:
            return self._guest(instance_uuid).power_state

    def set_event_listener(self, callback: EventListener | None) -> None:
        self._listener = callback

    # live migration

    def pre_live_migration(self, instance: InstanceSpec, images: ImageSource) -> dict[str, Any]:
        with self._lock:
            if instance.uuid in self._guests:
                raise DriverError(f"instance {instance.uuid} already has a guest on host {self.host}")
            self._incoming[instance.uuid] = instance
        return {"host": self.host}

    def live_migrate(self, instance: InstanceSpec, dest: str, migrate_data: dict[str, Any]) -> None:
        if self.fail_live_migration is not None:
            raise DriverError(self.fail_live_migration)
        peer = _HOSTS.get(dest)
        if peer is None or peer is self:
            raise DriverError(f"no fake host {dest} to live-migrate to")
        with self._lock:
            guest = self._guest(instance.uuid)
        with peer._lock:
            if instance.uuid not in peer._incoming:
                raise DriverError(f"host {dest} was not prepared for instance {instance.uuid}")
            peer._guests[instance.uuid] = FakeGuest(spec=instance, power_state=guest.power_state, console=guest.console)
        with self._lock:
            self._guests.pop(instance.uuid, None)

    def post_live_migration_at_destination(self, instance: InstanceSpec) -> None:
        with self._lock:
            self._guest(instance.uuid)
            self._incoming.pop(instance.uuid, None)

    def rollback_live_migration_at_destination(self, instance_uuid: str) -> None:
        with self._lock:
            self._incoming.pop(instance_uuid, None)
            self._guests.pop(instance_uuid, None)

    # test hooks (not part of the interface)

    def simulate_power_change(self, instance_uuid: str, power_state: int) -> None:
        """The guest changed state by itself (crashed, shut down from inside); fires the lifecycle event."""
        with self._lock:
            self._guest(instance_uuid).power_state = power_state
        listener = self._listener
        if listener is not None:
            listener(InstanceInfo(uuid=instance_uuid, power_state=power_state))

    def add_orphan(self, instance: InstanceSpec) -> None:
        """A guest the database does not know (as if left over from before a crash)."""
        with self._lock:
            self._guests[instance.uuid] = FakeGuest(spec=instance)

    # helpers

    def _guest(self, instance_uuid: str) -> FakeGuest:
        guest = self._guests.get(instance_uuid)
        if guest is None:
            raise InstanceNotFound(f"instance {instance_uuid} is not on host {self.host}")
        return guest

    def _set_state(self, instance_uuid: str, state: int, allowed: set[int] | None) -> None:
        with self._lock:
            guest = self._guest(instance_uuid)
            if allowed is not None and guest.power_state not in allowed:
                raise DriverError(
                    f"instance {instance_uuid} is in power state {guest.power_state}, cannot go to {state}"
                )
            guest.power_state = state


def _boot_lines(instance: InstanceSpec) -> list[str]:
    flavor = instance.flavor
    return [
        "[    0.000000] Linux version 6.1.0-fake (stratus@fake) #1 SMP",
        f"[    0.000000] Memory: {flavor.memory_mb * 1024}K available, {flavor.vcpus} CPUs",
        "[    0.420000] virtio_blk virtio2: [vda] attached",
        "Starting network: udhcpc: lease obtained",
        f"checking http://169.254.169.254/2009-04-04/instance-id: {instance.uuid}",
        f"{instance.hostname or instance.name} login:",
    ]
