"""Base images, downloaded once per host from the image service and shared by instance overlays.

Entries live at ``<root>/<image id>``. One lock per entry (shared by every driver in the process)
makes concurrent boots of one image download it once, and keeps ``cleanup`` from removing an
entry between its download and the overlay that starts using it. The data is checked against
the image's ``os_hash_value`` (or md5 ``checksum``) and its format probed before any guest sees it.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from stratus.compute.messages import ImageSpec
from stratus.compute.virt.base import DriverError, ImageSource
from stratus.compute.virt.libvirt import disk

LOG = logging.getLogger(__name__)

BOOTABLE_FORMATS = ("raw", "qcow2")
CHUNK = 1024 * 1024

_locks: dict[Path, threading.Lock] = {}
_locks_guard = threading.Lock()


class ImageError(DriverError):
    """The image cannot be used for a guest (format, checksum, download); the message says why."""


@dataclass(frozen=True)
class CachedImage:
    image_id: str
    path: Path
    format: str
    virtual_size: int


def _lock(path: Path) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(path, threading.Lock())


def check_declared_format(image: ImageSpec) -> None:
    """Refuse formats QEMU is not given here before downloading anything."""
    if image.disk_format not in BOOTABLE_FORMATS:
        raise ImageError(
            f"image {image.id} has disk_format {image.disk_format!r}, which this hypervisor cannot boot "
            f"(supported: {', '.join(BOOTABLE_FORMATS)})"
        )
    if image.container_format not in (None, "bare"):
        raise ImageError(f"image {image.id} has container_format {image.container_format!r}; only 'bare' boots")


def verify_checksum(image: ImageSpec, path: Path) -> None:
    """Compare the file with the image's multihash (preferred) or md5; raises ImageError on mismatch."""
    if image.os_hash_algo and image.os_hash_value:
        try:
            digest = hashlib.new(image.os_hash_algo)
        except ValueError:
            raise ImageError(f"image {image.id}: unknown os_hash_algo {image.os_hash_algo!r}") from None
        want = image.os_hash_value
    elif image.checksum:
        digest, want = hashlib.md5(usedforsecurity=False), image.checksum
    else:
        LOG.warning("image %s has no checksum; its data is used unverified", image.id)
        return
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    if digest.hexdigest() != want:
        raise ImageError(f"image {image.id}: downloaded data does not match its checksum ({digest.name})")


def check_probed_format(image: ImageSpec, found: disk.DiskInfo) -> None:
    """The data must be what the image claims: raw data is never probed as qcow2 and vice versa."""
    if found.format != image.disk_format:
        raise ImageError(f"image {image.id} claims disk_format {image.disk_format!r} but its data is {found.format!r}")
    if found.backing_file:
        raise ImageError(f"image {image.id} is a qcow2 with a backing file, which is refused")


class ImageCache:
    """The per-host cache under ``root``; see the module docstring."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, image_id: str) -> Path:
        return self.root / image_id

    @contextmanager
    def use(self, image: ImageSpec, images: ImageSource) -> Iterator[CachedImage]:
        """Yield the cached image (downloading it first if needed), holding its lock until the caller is done."""
        check_declared_format(image)
        path = self.path(image.id)
        with _lock(path):
            if not path.exists():
                self._fetch(image, images, path)
            found = disk.info(path)
            check_probed_format(image, found)
            yield CachedImage(image.id, path, found.format, found.virtual_size)

    def _fetch(self, image: ImageSpec, images: ImageSource, path: Path) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        part = path.with_name(f".{path.name}.download")
        try:
            LOG.info("downloading image %s into the cache", image.id)
            images.download(image.id, part)
            verify_checksum(image, part)
            check_probed_format(image, disk.info(part))
            part.replace(path)
        except DriverError:
            raise
        except Exception as exc:
            raise ImageError(f"could not download image {image.id}: {exc}") from exc
        finally:
            part.unlink(missing_ok=True)

    def entries(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_file() and not p.name.startswith("."))

    def cleanup(self, in_use: Callable[[], Iterable[str]]) -> list[str]:
        """Remove entries no instance uses; ``in_use()`` is asked under each entry's lock. Returns removed ids."""
        removed = []
        for image_id in self.entries():
            path = self.path(image_id)
            with _lock(path):
                if image_id in set(in_use()):
                    continue
                path.unlink(missing_ok=True)
                removed.append(image_id)
        if removed:
            LOG.info("image cache: removed unused %s", ", ".join(removed))
        return removed
