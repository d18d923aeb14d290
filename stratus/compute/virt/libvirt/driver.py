"""LibvirtDriver: real guests under QEMU (KVM or TCG) through libvirt.

Domains are persistent (defined, then started) so that libvirt keeps them across agent restarts
and a host reboot; the agent's restart reconcile simply lists them again. Lifecycle events are
turned into ``InstanceInfo`` for the agent only for changes the guest made by itself: while the
driver is acting on an instance its events are swallowed, and every event is re-read from
libvirt (an event arriving late never reports a stale state).
"""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import libvirt

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
from stratus.compute.virt.libvirt import config, disk, disk_transfer, events, host, migration
from stratus.compute.virt.libvirt.guest import Guest, StateWaiter
from stratus.compute.virt.libvirt.imagecache import ImageCache, ImageError
from stratus.compute.virt.libvirt.storage import (
    INTENT_RUNNING,
    INTENT_STOPPED,
    INTENT_SUSPENDED,
    InstanceDir,
    InstanceRecord,
    images_in_use,
)

LOG = logging.getLogger(__name__)

GiB = 1024**3
DEFAULT_URI = "qemu:///system"
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


class LibvirtDriver(ComputeDriver):
    """Guests of one host; instance files under ``state_dir`` (see ``storage``), base images in its cache."""

    capabilities = Capabilities(supports_live_migration=True)
    plugs_vifs = True

    def __init__(
        self,
        state_dir: str | Path,
        connection_uri: str = "",
        virt_type: str = "auto",
        *,
        start_guests_on_host_boot: bool = True,
        resize_shutdown_timeout: float = 30.0,
        boot_id_file: str | Path = BOOT_ID,
        listen_address: str = "",
        live_migration_uri: str = "qemu+tcp://%s/system",
        live_migration_timeout: float = 600.0,
    ):
        self.state_dir = Path(state_dir).absolute()
        self.uri = connection_uri or DEFAULT_URI
        self.requested_virt_type = virt_type
        self.virt_type = "qemu"
        self.start_guests_on_host_boot = start_guests_on_host_boot
        self.resize_shutdown_timeout = resize_shutdown_timeout
        self._boot_id_file = Path(boot_id_file)
        self.listen_address = listen_address
        self.live_migration_uri = live_migration_uri
        self.live_migration_timeout = live_migration_timeout
        self._incoming: set[str] = set()  # guests being live-migrated here: their events are not their own
        self.instances_root = self.state_dir / "instances"
        self.cache = ImageCache(self.state_dir / "image-cache")
        self.host = "localhost"
        self._conn: Any = None
        self._conn_lock = threading.Lock()
        self._listener: EventListener | None = None
        self._busy: dict[str, int] = {}
        self._busy_lock = threading.Lock()
        self._waiter = StateWaiter()
        self._dispatcher: events.LifecycleDispatcher | None = None

    # host

    @property
    def owner(self) -> str:
        """Written into every domain's metadata; only domains with this owner are this driver's."""
        return f"{self.host}:{self.state_dir}"

    def init_host(self, host: str) -> None:
        self.host = host
        self.instances_root.mkdir(parents=True, exist_ok=True)
        events.start_event_loop()
        if self._dispatcher is None:
            self._dispatcher = events.LifecycleDispatcher(self._on_domain_event, name=f"libvirt-events-{host}")
        self._connection()
        self.virt_type = host_virt_type(self.requested_virt_type, self._capabilities())
        self._recover_after_host_boot()

    def _connection(self) -> Any:
        with self._conn_lock:
            if self._conn is not None:
                try:
                    if self._conn.isAlive():
                        return self._conn
                except libvirt.libvirtError:
                    pass
                LOG.warning("libvirt connection to %s lost; reconnecting", self.uri)
            try:
                conn = libvirt.open(self.uri)
            except libvirt.libvirtError as exc:
                raise DriverError(f"cannot connect to libvirt at {self.uri}: {exc.get_error_message()}") from exc
            conn.setKeepAlive(5, 3)
            self._conn = conn
            if self._dispatcher is not None:
                self._dispatcher.register(conn)
            return conn

    def _capabilities(self) -> str:
        return str(self._connection().getCapabilities())

    def get_host_resources(self) -> HostResources:
        facts = host.host_facts(self.state_dir)
        conn = self._connection()
        return HostResources(
            hypervisor_hostname=self.host,
            vcpus=facts.vcpus,
            memory_mb=facts.memory_mb,
            disk_gb=facts.disk_gb,
            hypervisor_type="QEMU",
            hypervisor_version=int(conn.getVersion()),
            cpu_info={
                "arch": "x86_64",
                "model": facts.cpu_model,
                "vendor": facts.cpu_vendor,
                "virt_type": self.virt_type,
                "features": sorted(facts.cpu_flags & {"vmx", "svm", "avx", "avx2", "aes", "sse4_2"}),
            },
        )

    def list_instances(self) -> list[InstanceInfo]:
        return [InstanceInfo(uuid=g.uuid, power_state=g.power_state()) for g in self._guests()]

    def _guests(self) -> list[Guest]:
        guests = []
        for dom in self._connection().listAllDomains(0):
            if self._is_ours(dom):
                guests.append(Guest(dom, self._waiter))
        return sorted(guests, key=lambda g: g.uuid)

    def _is_ours(self, dom: Any) -> bool:
        try:
            meta = dom.metadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, config.METADATA_NS)
        except libvirt.libvirtError:
            return False  # no Stratus metadata: someone else's domain
        return config.parse_metadata(meta).get("owner") == self.owner

    def _lookup(self, instance_uuid: str) -> Guest | None:
        try:
            dom = self._connection().lookupByUUIDString(instance_uuid)
        except libvirt.libvirtError as exc:
            if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                return None
            raise DriverError(f"libvirt lookup of {instance_uuid} failed: {exc.get_error_message()}") from exc
        return Guest(dom, self._waiter) if self._is_ours(dom) else None

    def _guest(self, instance_uuid: str) -> Guest:
        guest = self._lookup(instance_uuid)
        if guest is None:
            raise InstanceNotFound(f"instance {instance_uuid} is not on host {self.host}")
        return guest

    def _dir(self, instance_uuid: str) -> InstanceDir:
        return InstanceDir(self.instances_root, instance_uuid)

    # lifecycle

    def spawn(self, instance: InstanceSpec, images: ImageSource) -> None:
        with self._acting(instance.uuid):
            existing = self._lookup(instance.uuid)
            if existing is not None:
                existing.start()
                return
            idir = self._dir(instance.uuid)
            self._start_new(instance, idir, lambda: self._create_disk(instance, images, idir), "the guest")

    def _start_new(self, instance: InstanceSpec, idir: InstanceDir, make_disk: Callable[[], None], what: str) -> None:
        """Make the disk, define and start; on any failure nothing of the guest is left."""
        try:
            make_disk()
            self._define(instance, idir).start()
        except Exception as exc:
            self._remove(instance.uuid)
            if isinstance(exc, DriverError):
                raise
            raise DriverError(f"could not start {what}: {exc}") from exc

    def _create_disk(self, instance: InstanceSpec, images: ImageSource, idir: InstanceDir) -> None:
        """A fresh overlay on the cached base of ``instance.image``, sized to the flavor (checked first)."""
        image = instance.image
        if image is None:
            raise DriverError("the libvirt driver boots only from an image (no image given)")
        if image.virtual_size:
            root_size(instance, image.virtual_size)  # refuse before downloading anything
        with self.cache.use(image, images) as base:
            size = root_size(instance, base.virtual_size)
            idir.create()
            idir.disk.unlink(missing_ok=True)
            disk.create_overlay(base.path, base.format, idir.disk, size)
            idir.write(InstanceRecord(image_id=image.id, image_format=base.format, intent=INTENT_RUNNING))

    def _copy_disk(
        self, instance: InstanceSpec, images: ImageSource, idir: InstanceDir, source: dict[str, Any]
    ) -> None:
        """The source host's overlay (see ``disk_transfer``), rebased onto this host's cached base of the
        same image and grown to the new flavor."""
        image = instance.image
        address, remote_disk = str(source.get("address") or ""), str(source.get("disk") or "")
        if image is None or not address or not remote_disk:
            raise DriverError("the source host did not say where the guest's disk is")
        with self.cache.use(image, images) as base:
            idir.create()
            incoming = idir.path / ".disk.incoming"
            uri = migration.peer_uri(self.live_migration_uri, address)
            copied = disk_transfer.download(uri, remote_disk, incoming)
            LOG.info("%s: copied the disk of %s from %s (%d bytes)", self.host, instance.uuid, address, copied)
            disk.rebase_unsafe(incoming, base.path, base.format)
            current = disk.info(incoming).virtual_size
            size = root_size(instance, current)
            if size < current:
                raise DriverError(
                    f"flavor {instance.flavor.name} has a {instance.flavor.root_gb} GB disk, smaller than the "
                    f"instance's {current / GiB:.1f} GB: disks cannot shrink"
                )
            if size > current:
                disk.grow(incoming, size)
            incoming.replace(idir.disk)
            idir.write(InstanceRecord(image_id=image.id, image_format=base.format, intent=INTENT_RUNNING))

    def migration_disk_source(self, instance_uuid: str) -> dict[str, Any] | None:
        """A destination copies the disk through this host's libvirtd, when it listens for other hosts."""
        idir = self._dir(instance_uuid)
        if not self.listen_address or not idir.disk.exists():
            return None
        return {"address": self.listen_address, "disk": str(idir.disk)}

    def _define(self, instance: InstanceSpec, idir: InstanceDir) -> Guest:
        paths = config.DomainPaths(disk=idir.disk, console=idir.console)
        xml = config.domain_xml(instance, paths, virt_type=self.virt_type, owner=self.owner)
        try:
            dom = self._connection().defineXML(xml)
        except libvirt.libvirtError as exc:
            raise DriverError(f"libvirt refused the guest definition: {exc.get_error_message()}") from exc
        return Guest(dom, self._waiter)

    def destroy(self, instance_uuid: str) -> None:
        with self._acting(instance_uuid):
            self._remove(instance_uuid)

    def _remove(self, instance_uuid: str) -> None:
        guest = self._lookup(instance_uuid)
        if guest is not None:
            guest.destroy()
            flags = libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM
            try:
                guest.dom.undefineFlags(flags)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_DOMAIN:
                    raise DriverError(f"could not undefine {instance_uuid}: {exc.get_error_message()}") from exc
        self._dir(instance_uuid).remove()
        self.cache.cleanup(lambda: images_in_use(self.instances_root))

    def power_off(self, instance_uuid: str, timeout: float = 60.0) -> None:
        with self._acting(instance_uuid):
            guest = self._guest(instance_uuid)
            guest.power_off(timeout)
            self._dir(instance_uuid).set_intent(INTENT_STOPPED)

    def power_on(self, instance_uuid: str) -> None:
        with self._acting(instance_uuid):
            guest = self._guest(instance_uuid)
            if guest.power_state() == messages.PAUSED:
                guest.unpause()
            else:
                guest.start()
            self._dir(instance_uuid).set_intent(INTENT_RUNNING)

    def reboot(self, instance_uuid: str, hard: bool) -> None:
        with self._acting(instance_uuid):
            guest = self._guest(instance_uuid)
            if not hard:
                if guest.power_state() != messages.RUNNING:
                    raise DriverError("soft reboot needs a running guest")
                guest.power_off(self.resize_shutdown_timeout)  # ACPI, then hard if the guest ignores it
            else:
                guest.destroy()
            guest.start()
            self._dir(instance_uuid).set_intent(INTENT_RUNNING)

    def pause(self, instance_uuid: str) -> None:
        with self._acting(instance_uuid):
            self._guest(instance_uuid).pause()

    def unpause(self, instance_uuid: str) -> None:
        with self._acting(instance_uuid):
            self._guest(instance_uuid).unpause()

    def suspend(self, instance_uuid: str) -> None:
        with self._acting(instance_uuid):
            self._guest(instance_uuid).suspend()
            self._dir(instance_uuid).set_intent(INTENT_SUSPENDED)

    def resume(self, instance_uuid: str) -> None:
        with self._acting(instance_uuid):
            self._guest(instance_uuid).resume()
            self._dir(instance_uuid).set_intent(INTENT_RUNNING)

    def rebuild(self, instance: InstanceSpec, images: ImageSource) -> None:
        with self._acting(instance.uuid):
            guest = self._guest(instance.uuid)
            guest.destroy()
            if guest.dom.hasManagedSaveImage():
                guest.dom.managedSaveRemove(0)
            idir = self._dir(instance.uuid)
            idir.drop_resize_backup()
            self._create_disk(instance, images, idir)
            self._define(instance, idir).start()
            self.cache.cleanup(lambda: images_in_use(self.instances_root))

    def resize(self, instance: InstanceSpec, images: ImageSource, disk_source: dict[str, Any] | None = None) -> None:
        with self._acting(instance.uuid):
            guest = self._lookup(instance.uuid)
            idir = self._dir(instance.uuid)
            if guest is None:  # arriving from another host: its disk copied over, else a fresh one from the image
                if disk_source:
                    self._start_new(instance, idir, lambda: self._copy_disk(instance, images, idir, disk_source),
                                    "the moved guest")  # fmt: skip
                else:
                    self._start_new(instance, idir, lambda: self._create_disk(instance, images, idir), "the guest")
                return
            current = disk.info(idir.disk, force_share=True).virtual_size
            new_size = root_size(instance, current)
            if new_size < current:
                raise DriverError(
                    f"flavor {instance.flavor.name} has a {instance.flavor.root_gb} GB disk, smaller than the "
                    f"instance's {current / GiB:.1f} GB: disks cannot shrink"
                )
            guest.power_off(self.resize_shutdown_timeout)
            if not idir.old_disk.exists():  # a second resize before confirm keeps the first backup
                shutil.copyfile(idir.disk, idir.old_disk)
                idir.old_domain.write_text(guest.dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
            if new_size > current:
                disk.grow(idir.disk, new_size)
            self._define(instance, idir).start()
            idir.set_intent(INTENT_RUNNING)

    def confirm_resize(self, instance_uuid: str) -> None:
        self._dir(instance_uuid).drop_resize_backup()

    def revert_resize(self, instance: InstanceSpec) -> None:
        with self._acting(instance.uuid):
            guest = self._guest(instance.uuid)
            idir = self._dir(instance.uuid)
            guest.power_off(self.resize_shutdown_timeout)
            if idir.old_disk.exists():
                idir.old_disk.replace(idir.disk)
            self._define(instance, idir).start()
            idir.drop_resize_backup()
            idir.set_intent(INTENT_RUNNING)

    def snapshot(self, instance_uuid: str, image_id: str, images: ImageSource) -> None:
        with self._acting(instance_uuid):
            guest = self._guest(instance_uuid)
            idir = self._dir(instance_uuid)
            record = idir.read() or InstanceRecord()
            out = idir.path / f".snapshot-{image_id}"
            froze = guest.power_state() == messages.RUNNING
            try:
                if froze:
                    guest.pause()  # a consistent copy: no writes while qemu-img reads
                try:
                    disk.convert(idir.disk, out, record.image_format, src_format="qcow2", force_share=True)
                finally:
                    if froze:
                        guest.unpause()
                images.upload(image_id, out)
            except DriverError:
                raise
            except Exception as exc:
                raise DriverError(f"snapshot upload failed: {exc}") from exc
            finally:
                out.unlink(missing_ok=True)

    def get_console_output(self, instance_uuid: str, length: int | None = None) -> str:
        self._guest(instance_uuid)
        return read_console(self._dir(instance_uuid).console, length)

    def get_power_state(self, instance_uuid: str) -> int:
        return self._guest(instance_uuid).power_state()

    def set_event_listener(self, callback: EventListener | None) -> None:
        self._listener = callback

    # live migration (see ``migration``)

    def pre_live_migration(self, instance: InstanceSpec, images: ImageSource) -> dict[str, Any]:
        if not self.listen_address:
            raise DriverError(
                f"host {self.host} does not take live migrations: its libvirtd listens on no address "
                "([compute_agent] libvirt_listen_address is empty)"
            )
        if self._lookup(instance.uuid) is not None:
            raise DriverError(f"instance {instance.uuid} already has a guest on host {self.host}")
        self._incoming_begin(instance.uuid)
        idir = self._dir(instance.uuid)
        try:
            self._create_disk(instance, images, idir)
        except Exception as exc:
            self.rollback_live_migration_at_destination(instance.uuid)
            if isinstance(exc, DriverError):
                raise
            raise DriverError(f"could not prepare the guest's disk: {exc}") from exc
        return {"address": self.listen_address, "disk": str(idir.disk), "console": str(idir.console),
                "owner": self.owner}  # fmt: skip

    def live_migrate(self, instance: InstanceSpec, dest: str, migrate_data: dict[str, Any]) -> None:
        address = str(migrate_data.get("address") or "")
        if not address:
            raise DriverError(f"host {dest} gave no address to live-migrate to")
        with self._acting(instance.uuid):
            guest = self._guest(instance.uuid)
            try:
                xml = guest.dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE | libvirt.VIR_DOMAIN_XML_SECURE)
                dest_xml = migration.destination_xml(
                    xml, disk=migrate_data["disk"], console=migrate_data["console"], owner=migrate_data["owner"]
                )
            except (KeyError, ValueError, libvirt.libvirtError) as exc:
                raise DriverError(f"cannot describe the guest for {dest}: {exc}") from exc
            uri = migration.peer_uri(self.live_migration_uri, address)
            params = migration.migration_params(dest_xml, address)
            LOG.info("%s: live-migrating %s to %s (%s)", self.host, instance.uuid, dest, uri)
            watchdog = threading.Timer(self.live_migration_timeout, self._abort_migration, (guest, dest))
            watchdog.daemon = True
            watchdog.start()
            try:
                guest.dom.migrateToURI3(uri, params, migration.migration_flags(block=True))
            except libvirt.libvirtError as exc:
                raise DriverError(f"live migration to {dest} failed: {exc.get_error_message()}") from exc
            finally:
                watchdog.cancel()

    def _abort_migration(self, guest: Guest, dest: str) -> None:
        LOG.warning("%s: live migration of %s to %s took longer than %.0f s; aborting it",
                    self.host, guest.uuid, dest, self.live_migration_timeout)  # fmt: skip
        try:
            guest.dom.abortJob()
        except libvirt.libvirtError as exc:
            LOG.warning("%s: could not abort the migration of %s: %s", self.host, guest.uuid, exc)

    def post_live_migration_at_destination(self, instance: InstanceSpec) -> None:
        try:
            self._guest(instance.uuid)  # defined here, with this driver as its owner
            self._dir(instance.uuid).set_intent(INTENT_RUNNING)
        finally:
            self._incoming_end(instance.uuid)

    def rollback_live_migration_at_destination(self, instance_uuid: str) -> None:
        try:
            self.destroy(instance_uuid)
        finally:
            self._incoming_end(instance_uuid)

    def _incoming_begin(self, instance_uuid: str) -> None:
        with self._busy_lock:
            if instance_uuid not in self._incoming:
                self._incoming.add(instance_uuid)
                self._busy[instance_uuid] = self._busy.get(instance_uuid, 0) + 1

    def _incoming_end(self, instance_uuid: str) -> None:
        with self._busy_lock:
            if instance_uuid in self._incoming:
                self._incoming.discard(instance_uuid)
                self._busy[instance_uuid] -= 1
                if not self._busy[instance_uuid]:
                    del self._busy[instance_uuid]

    # events and recovery

    @contextmanager
    def _acting(self, instance_uuid: str) -> Iterator[None]:
        """Mark ``instance_uuid`` as being changed by the driver: its lifecycle events are not the guest's own."""
        with self._busy_lock:
            self._busy[instance_uuid] = self._busy.get(instance_uuid, 0) + 1
        try:
            yield
        finally:
            with self._busy_lock:
                self._busy[instance_uuid] -= 1
                if not self._busy[instance_uuid]:
                    del self._busy[instance_uuid]

    def _on_domain_event(self, instance_uuid: str) -> None:
        self._waiter.notify()
        with self._busy_lock:
            if instance_uuid in self._busy:
                return
        listener = self._listener
        guest = self._lookup(instance_uuid)
        if guest is None:
            return
        state = guest.power_state()
        if state in (messages.SHUTDOWN, messages.CRASHED):
            self._dir(instance_uuid).set_intent(INTENT_STOPPED)  # the user's view is now SHUTOFF
        LOG.info("%s: guest %s changed power state by itself to %s", self.host, instance_uuid, state)
        if listener is not None:
            listener(InstanceInfo(uuid=instance_uuid, power_state=state))

    def _recover_after_host_boot(self) -> None:
        """After a host reboot, start the guests whose last requested state was 'running'."""
        marker = self.state_dir / "host-boot-id"
        try:
            boot_id = self._boot_id_file.read_text().strip()
        except OSError:
            return
        previous = marker.read_text().strip() if marker.exists() else None
        if previous is not None and previous != boot_id and self.start_guests_on_host_boot:
            for guest in self._guests():
                record = self._dir(guest.uuid).read()
                if record is None or record.intent != INTENT_RUNNING or guest.is_active():
                    continue
                LOG.info("%s: host rebooted; starting guest %s again", self.host, guest.uuid)
                try:
                    with self._acting(guest.uuid):
                        guest.start()
                except DriverError as exc:
                    LOG.error("%s: could not restart %s after the host reboot: %s", self.host, guest.uuid, exc)
        marker.write_text(boot_id + "\n")

    def close(self) -> None:
        """Drop the connection and stop the event worker (tests; the agent keeps drivers for the process)."""
        if self._dispatcher is not None:
            self._dispatcher.close()
            self._dispatcher = None
        with self._conn_lock:
            if self._conn is not None:
                try:
                    self._conn.close()
                except libvirt.libvirtError:
                    pass
                self._conn = None


def root_size(instance: InstanceSpec, virtual_size: int) -> int:
    """Bytes of the root disk: the flavor's, or the image's when the flavor says 0. Raises ImageError if too small."""
    flavor, image = instance.flavor, instance.image
    if image is not None and image.min_disk and flavor.root_gb and flavor.root_gb < image.min_disk:
        raise ImageError(
            f"flavor {flavor.name}'s disk ({flavor.root_gb} GB) is smaller than image {image.id}'s min_disk "
            f"({image.min_disk} GB)"
        )
    if not flavor.root_gb:
        return virtual_size
    size = flavor.root_gb * GiB
    if size < virtual_size:
        raise ImageError(
            f"flavor {flavor.name}'s disk ({flavor.root_gb} GB) is smaller than the image's virtual size "
            f"({virtual_size / GiB:.2f} GB)"
        )
    return size


def read_console(path: Path, length: int | None, max_bytes: int = 4 * 1024 * 1024) -> str:
    """The last ``length`` lines of the console file (all if None); at most ``max_bytes`` are read."""
    try:
        with open(path, "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            data = f.read()
    except FileNotFoundError:
        return ""
    text = data.decode("utf-8", errors="replace").replace("\r\n", "\n")
    if length is None:
        return text
    if length <= 0:
        return ""
    lines = text.splitlines(keepends=True)
    return "".join(lines[-length:])


def host_virt_type(requested: str, capabilities_xml: str) -> str:
    """The virt type to use, checked against what libvirt offers ('kvm' needs a kvm domain type)."""
    chosen = host.choose_virt_type(requested)
    if chosen == "kvm" and "type='kvm'" not in capabilities_xml and 'type="kvm"' not in capabilities_xml:
        LOG.info("libvirt offers no kvm domains on this host; using QEMU TCG")
        return "qemu"
    return chosen
