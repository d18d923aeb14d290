"""Filesystem store: one file per image under the store directory, written atomically.

Data goes to ``.<id>.<random>.part`` in the same directory, is fsynced and renamed to ``<id>``
(then the directory is fsynced), so a reader sees either no file or the whole file. Leftover
``.part`` files from a crash are removed when the store opens.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

from stratus.image.stores.base import Capabilities, Store, StoreWriter

PART_SUFFIX = ".part"


class FileWriter(StoreWriter):
    def __init__(self, directory: Path, image_id: str):
        self._dir = directory
        self._final = directory / image_id
        self._temp = directory / f".{image_id}.{uuid.uuid4().hex}{PART_SUFFIX}"
        self._file = open(self._temp, "xb")  # noqa: SIM115 - closed in commit/abort

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)

    def commit(self) -> None:
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.rename(self._temp, self._final)
            _fsync_dir(self._dir)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        try:
            self._file.close()
        except OSError:
            pass
        self._temp.unlink(missing_ok=True)


class FileStore(Store):
    capabilities = Capabilities(durable=True)

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        for leftover in self.root.glob(f".*{PART_SUFFIX}"):
            leftover.unlink(missing_ok=True)

    def _path(self, image_id: str) -> Path:
        if not image_id or "/" in image_id or image_id.startswith("."):
            raise ValueError(f"invalid image id {image_id!r}")
        return self.root / image_id

    def begin(self, image_id: str) -> StoreWriter:
        self._path(image_id)
        return FileWriter(self.root, image_id)

    def read(self, image_id: str, start: int = 0, end: int | None = None, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        handle = open(self._path(image_id), "rb")  # noqa: SIM115 - closed by the generator
        return _read_range(handle, start, end, chunk_size)

    def size(self, image_id: str) -> int | None:
        try:
            return self._path(image_id).stat().st_size
        except FileNotFoundError:
            return None

    def delete(self, image_id: str) -> None:
        self._path(image_id).unlink(missing_ok=True)


def _read_range(handle, start: int, end: int | None, chunk_size: int) -> Iterator[bytes]:  # type: ignore[no-untyped-def]
    with handle:
        handle.seek(start)
        remaining = None if end is None else end - start
        while remaining is None or remaining > 0:
            chunk = handle.read(chunk_size if remaining is None else min(chunk_size, remaining))
            if not chunk:
                return
            if remaining is not None:
                remaining -= len(chunk)
            yield chunk


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
