"""The hypervisor driver interface: what a compute agent asks of the machine it runs on.

Drivers take and return the dataclasses of ``stratus.compute.messages`` (never ORM rows or HTTP
requests) and keep back-end identifiers (libvirt domain names, ...) to themselves: an instance is
always named by its ``uuid``. Drivers never touch the database and never talk to the bus; the agent
(``stratus.compute.agent.manager``) does both. Every method may block; the agent serialises calls
for one instance, calls for different instances may run concurrently.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from stratus.compute.messages import HostResources, InstanceInfo, InstanceSpec


class DriverError(Exception):
    """An operation failed on the host; the message is fit to show a user in an instance fault."""


class InstanceNotFound(DriverError):
    """The driver has no guest with this uuid."""


@dataclass(frozen=True)
class Capabilities:
    """What a driver supports; the agent and API check these instead of probing methods."""

    supports_pause: bool = True
    supports_suspend: bool = True
    supports_rebuild: bool = True
    supports_resize: bool = True
    supports_snapshot: bool = True
    supports_console_output: bool = True
    supports_lifecycle_events: bool = True
    supports_live_migration: bool = False


class ImageSource(Protocol):
    """Image data for a driver, as the requesting user (the agent backs it with the image API)."""

    def download(self, image_id: str, dest: Path) -> int:
        """Write the image's data to ``dest``; returns its size in bytes."""
        ...

    def upload(self, image_id: str, src: Path) -> None:
        """Upload ``src`` as the data of the (queued) image ``image_id``, which then becomes active."""
        ...


EventListener = Callable[[InstanceInfo], None]


class ComputeDriver(abc.ABC):
    """One hypervisor on one host. See the module docstring for the ground rules."""

    capabilities: Capabilities = Capabilities()
    plugs_vifs: bool = False
    """True if guests use the taps the network agent plugs (``InstanceSpec.vifs``): the agent then plugs
    them and waits for ``network-vif-plugged`` before ``spawn``."""

    @abc.abstractmethod
    def init_host(self, host: str) -> None:
        """Prepare the host (connect to the hypervisor); called once before anything else.

        Raises DriverError if the hypervisor cannot be used. Idempotent.
        """

    @abc.abstractmethod
    def get_host_resources(self) -> HostResources:
        """Total vcpus, memory and disk the host offers to guests, plus hypervisor facts. No side effects."""

    @abc.abstractmethod
    def list_instances(self) -> list[InstanceInfo]:
        """Every guest this driver knows on the host, with its power state. No side effects."""

    @abc.abstractmethod
    def spawn(self, instance: InstanceSpec, images: ImageSource) -> None:
        """Create and start a guest for ``instance``; returns when it is running.

        Raises DriverError (the build is then retried on another host). Idempotent: spawning a uuid
        that already runs here is a no-op.
        """

    @abc.abstractmethod
    def destroy(self, instance_uuid: str) -> None:
        """Stop the guest and remove everything it uses on the host. Idempotent: an unknown uuid is a no-op."""

    @abc.abstractmethod
    def power_off(self, instance_uuid: str, timeout: float = 60.0) -> None:
        """Shut the guest down, cleanly within ``timeout`` seconds, else forcibly.

        Raises InstanceNotFound. Idempotent: powering off a stopped guest is a no-op.
        """

    @abc.abstractmethod
    def power_on(self, instance_uuid: str) -> None:
        """Start a stopped guest. Raises InstanceNotFound. Idempotent."""

    @abc.abstractmethod
    def reboot(self, instance_uuid: str, hard: bool) -> None:
        """Reboot the guest (``hard``: reset instead of asking the guest OS). Raises InstanceNotFound.

        A stopped guest is started (as Nova's hard reboot does).
        """

    @abc.abstractmethod
    def pause(self, instance_uuid: str) -> None:
        """Freeze the guest's vcpus in memory. Raises InstanceNotFound, DriverError if not running."""

    @abc.abstractmethod
    def unpause(self, instance_uuid: str) -> None:
        """Undo ``pause``. Raises InstanceNotFound, DriverError if not paused."""

    @abc.abstractmethod
    def suspend(self, instance_uuid: str) -> None:
        """Save the guest's memory to disk and stop it. Raises InstanceNotFound, DriverError if not running."""

    @abc.abstractmethod
    def resume(self, instance_uuid: str) -> None:
        """Undo ``suspend``. Raises InstanceNotFound, DriverError if not suspended."""

    @abc.abstractmethod
    def rebuild(self, instance: InstanceSpec, images: ImageSource) -> None:
        """Recreate the guest's root disk from ``instance.image`` and start it. Raises InstanceNotFound."""

    @abc.abstractmethod
    def resize(self, instance: InstanceSpec, images: ImageSource, disk_source: dict[str, Any] | None = None) -> None:
        """Give the guest ``instance.flavor`` and start it, keeping what is needed to revert.

        If the guest is not on this host (a resize to another host), create it here: from the disk
        ``disk_source`` describes (what the source's ``migration_disk_source`` returned), else from its image.
        Raises DriverError. The old state is kept until ``confirm_resize`` or ``revert_resize``.
        """

    def migration_disk_source(self, instance_uuid: str) -> dict[str, Any] | None:
        """Where a destination can copy this stopped guest's disk from (cold migration); None: it cannot,
        and the destination builds the disk from the image."""
        return None

    @abc.abstractmethod
    def confirm_resize(self, instance_uuid: str) -> None:
        """Drop what ``resize`` kept for a revert. Idempotent."""

    @abc.abstractmethod
    def revert_resize(self, instance: InstanceSpec) -> None:
        """Give the guest back ``instance.flavor`` (the old one) and start it. Raises InstanceNotFound."""

    @abc.abstractmethod
    def snapshot(self, instance_uuid: str, image_id: str, images: ImageSource) -> None:
        """Copy the guest's root disk and upload it as the data of image ``image_id``.

        Raises InstanceNotFound or DriverError. The guest keeps its power state.
        """

    @abc.abstractmethod
    def get_console_output(self, instance_uuid: str, length: int | None = None) -> str:
        """The guest's serial console log, its last ``length`` lines if given. Raises InstanceNotFound."""

    @abc.abstractmethod
    def get_power_state(self, instance_uuid: str) -> int:
        """The guest's power state (``messages.RUNNING`` ...). Raises InstanceNotFound."""

    @abc.abstractmethod
    def set_event_listener(self, callback: EventListener | None) -> None:
        """Call ``callback(InstanceInfo)`` whenever a guest's power state changes by itself (crash, guest
        shutdown), from any thread. ``None`` stops the events.
        """

    # live migration (block migration: every host has its own disks). Drivers that support it set
    # ``capabilities.supports_live_migration``; the defaults refuse.

    def pre_live_migration(self, instance: InstanceSpec, images: ImageSource) -> dict[str, Any]:
        """On the destination, before the move: make what the guest needs here (its disk on the base image).

        Returns migrate data for the source's ``live_migrate`` (JSON-able: paths, addresses). Raises DriverError.
        """
        raise DriverError(f"the {type(self).__name__} cannot live-migrate guests")

    def live_migrate(self, instance: InstanceSpec, dest: str, migrate_data: dict[str, Any]) -> None:
        """On the source: move the running guest to ``dest`` (memory and disk); returns once it runs there.

        Raises DriverError if the move failed; the guest then still runs here.
        """
        raise DriverError(f"the {type(self).__name__} cannot live-migrate guests")

    def post_live_migration_at_destination(self, instance: InstanceSpec) -> None:
        """On the destination once the guest runs here: record it as this host's own."""
        raise DriverError(f"the {type(self).__name__} cannot live-migrate guests")

    def rollback_live_migration_at_destination(self, instance_uuid: str) -> None:
        """On the destination after a failed move: drop what ``pre_live_migration`` made. Idempotent."""
        self.destroy(instance_uuid)
