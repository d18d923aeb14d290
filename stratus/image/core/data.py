"""Image data: the upload status machine (queued -> saving -> active) and ranged downloads.

An upload streams chunk by chunk into a store writer (a temporary file, fsynced and renamed on
success) while md5 and sha512 are computed, the size is held to the tighter of
``image_size_cap`` and the project's storage quota, and the first bytes are checked against the
declared ``disk_format`` (see :mod:`stratus.image.formats`). Memory stays at one chunk plus the
64 KiB inspection head.

Failures follow Glance (``glance/api/v2/image_data.py``): data the client did not finish
sending, data over a limit (413) or data refused by inspection (400) puts the image back to
``queued`` with the partial data removed, so the upload can be retried; an unexpected store
error marks the image ``killed``. An image deleted while its data was arriving gets 410 and its
data is dropped.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    Gone,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    ServiceUnavailable,
    StratusError,
)
from stratus.image import formats
from stratus.image.core.resources import Resources
from stratus.image.core.visibility import get_visible, target
from stratus.image.models import Image
from stratus.image.stores.base import StoreWriter

LOG = logging.getLogger(__name__)
HASH_ALGO = "sha512"
RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")


class UnsatisfiableRange(RangeNotSatisfiable):
    """416; ``total`` goes into the ``Content-Range: bytes */total`` header."""

    def __init__(self, total: int, message: str | None = None):
        super().__init__(message or f"The requested range is not satisfiable (image size {total}).")
        self.total = total


class UploadInterrupted(BadRequest):
    """The client sent fewer bytes than it announced, or went away."""


@dataclass(frozen=True)
class Limit:
    bytes: int
    message: str


@dataclass(frozen=True)
class Received:
    size: int
    md5: str
    sha512: str
    virtual_size: int | None


@dataclass
class Download:
    chunks: Iterator[bytes]
    total: int
    start: int
    end: int
    """Exclusive end of the bytes sent."""
    checksum: str | None
    partial: bool


class Receiver:
    """Feeds chunks to a writer, hashing, size-limiting and inspecting them on the way."""

    def __init__(self, writer: StoreWriter, limit: Limit, disk_format: str | None, inspect: bool):
        self.writer = writer
        self.limit = limit
        self.disk_format = disk_format if inspect else None
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha512 = hashlib.sha512()
        self.size = 0
        self.head = bytearray()
        self.tail = b""
        self.head_checked = False

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit.bytes:
            raise PayloadTooLarge(self.limit.message)
        if len(self.head) < formats.HEAD_BYTES:
            self.head += chunk[: formats.HEAD_BYTES - len(self.head)]
        if self.disk_format and not self.head_checked and len(self.head) >= formats.HEAD_BYTES:
            formats.verify(self.disk_format, bytes(self.head), None, None)
            self.head_checked = True
        self.tail = (
            chunk[-formats.TAIL_BYTES :]
            if len(chunk) >= formats.TAIL_BYTES
            else (self.tail + chunk)[-formats.TAIL_BYTES :]
        )
        self.md5.update(chunk)
        self.sha512.update(chunk)
        self.writer.write(chunk)

    def finish(self) -> Received:
        virtual_size: int | None = self.size
        if self.disk_format:
            virtual_size = formats.verify(self.disk_format, bytes(self.head), self.tail, self.size)
        return Received(self.size, self.md5.hexdigest(), self.sha512.hexdigest(), virtual_size)


def parse_range(header: str | None, total: int) -> tuple[int, int] | None:
    """``(start, end_exclusive)`` for a single ``bytes=`` range; None for no (or an ignorable) header."""
    if not header:
        return None
    match = RANGE_RE.match(header.strip())
    if match is None:
        if header.strip().startswith("bytes=") and "," in header:
            raise UnsatisfiableRange(total, "Only a single byte range is supported.")
        return None
    first, last = match.groups()
    if first == "" and last == "":
        return None
    if first == "":
        length = int(last)
        if length == 0:
            raise UnsatisfiableRange(total)
        return max(total - length, 0), total
    start = int(first)
    end = total if last == "" else min(int(last) + 1, total)
    if start >= total or end <= start:
        raise UnsatisfiableRange(total)
    return start, end


class DataManager:
    def __init__(self, res: Resources):
        self.res = res

    def upload(self, ctx: RequestContext, image_id: str, chunks: Iterable[bytes], content_length: int | None) -> None:
        limit, disk_format = self._begin(ctx, image_id, content_length)
        writer = self.res.store.begin(image_id)
        try:
            receiver = Receiver(writer, limit, disk_format, self.res.conf.inspect_formats)
            for chunk in chunks:
                receiver.feed(chunk)
            if content_length is not None and receiver.size != content_length:
                raise UploadInterrupted(
                    f"The upload ended after {receiver.size} of {content_length} bytes; the image is queued again."
                )
            self._finish(image_id, writer, receiver.finish())
        except OSError as exc:
            writer.abort()
            LOG.exception("storing the data of image %s failed", image_id)
            if exc.errno == errno.ENOSPC:
                self._restore(image_id, "queued")
                raise PayloadTooLarge("Image storage media is full.") from exc
            self._restore(image_id, "killed")
            raise ServiceUnavailable("The image store failed while writing the data; the image is killed.") from exc
        except BaseException as exc:
            writer.abort()
            self._restore(image_id, "queued" if isinstance(exc, StratusError) else "killed")
            raise

    def _begin(self, ctx: RequestContext, image_id: str, content_length: int | None) -> tuple[Limit, str | None]:
        """Check and move the image from queued to saving; the size limit that applies."""
        with self.res.db.session() as session:
            image = get_visible(session, ctx, image_id, for_update=True)
            self.res.enforcer.enforce(ctx, "image:upload_image", target(image))
            if image.status != "queued":
                raise Conflict(f"Image status transition from {image.status} to saving is not allowed.")
            if not image.disk_format or not image.container_format:
                raise BadRequest("Properties disk_format and container_format must be set prior to saving data.")
            cap = self.res.conf.image_size_cap
            limit = Limit(cap, f"Image size exceeds the maximum allowed size of {cap} bytes.")
            quota = self.res.storage_quota(image.owner)
            if quota:
                remaining = max(quota - self.res.storage_used(session, image.owner, excluding=image_id), 0)
                if remaining < limit.bytes:
                    limit = Limit(
                        remaining,
                        f"Denying attempt to upload image: the storage quota of {quota} bytes "
                        f"would be exceeded ({remaining} bytes remain).",
                    )
            if content_length is not None and content_length > limit.bytes:
                raise PayloadTooLarge(limit.message)
            image.status = "saving"
            return limit, image.disk_format

    def _finish(self, image_id: str, writer: StoreWriter, received: Received) -> None:
        """Commit the data and make the image active, in one transaction."""
        committed = False
        try:
            with self.res.db.session() as session:
                image = session.get(Image, image_id, with_for_update=True)
                if image is None or image.status != "saving":
                    raise Gone(f"Image {image_id} was deleted while its data was being uploaded.")
                quota = self.res.storage_quota(image.owner)
                if quota:  # serialise the quota check of concurrent uploads to one project
                    session.execute(sa.select(Image.id).where(Image.owner == image.owner).with_for_update())
                used = self.res.storage_used(session, image.owner, excluding=image_id)
                if quota and used + received.size > quota:
                    raise PayloadTooLarge(
                        f"Denying attempt to upload image: the storage quota of {quota} bytes would be exceeded."
                    )
                writer.commit()
                committed = True
                image.size, image.checksum, image.virtual_size = received.size, received.md5, received.virtual_size
                image.os_hash_algo, image.os_hash_value = HASH_ALGO, received.sha512
                image.status = "active"
                image.updated_at = utcnow()
        except BaseException:
            if committed:
                self.res.store.delete(image_id)
            raise

    def _restore(self, image_id: str, status: str) -> None:
        """Put a failed upload's image back (if it still exists and is still saving)."""
        try:
            with self.res.db.session() as session:
                session.execute(
                    sa.update(Image)
                    .where(Image.id == image_id, Image.status == "saving")
                    .values(status=status, updated_at=utcnow())
                )
        except Exception:
            LOG.exception("could not set image %s back to %s after a failed upload", image_id, status)

    def download(self, ctx: RequestContext, image_id: str, range_header: str | None) -> Download | None:
        """The data to send, or None when the image has no data (the API answers 204)."""
        with self.res.db.reader() as session:
            image = get_visible(session, ctx, image_id)
            self.res.enforcer.enforce(ctx, "image:download_image", target(image))
            if image.status == "deactivated" and not ctx.is_admin:
                raise Forbidden("The requested image has been deactivated. Image data download is forbidden.")
            if image.status not in ("active", "deactivated") or image.size is None:
                return None
            total, checksum = image.size, image.checksum
        span = parse_range(range_header, total)
        start, end = span or (0, total)
        try:
            chunks = self.res.store.read(image_id, start, end, self.res.conf.chunk_size)
        except FileNotFoundError:
            raise NotFound(f"The data of image {image_id} is missing from the store.") from None
        return Download(chunks, total, start, end, checksum, partial=span is not None)
