"""In-memory store for tests and scale runs: deterministic, nothing on disk."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from stratus.image.stores.base import Capabilities, Store, StoreWriter


class FakeWriter(StoreWriter):
    def __init__(self, store: FakeStore, image_id: str):
        self._store = store
        self._id = image_id
        self._data = bytearray()
        self._done = False

    def write(self, chunk: bytes) -> None:
        self._data += chunk

    def commit(self) -> None:
        with self._store.lock:
            self._store.blobs[self._id] = bytes(self._data)
        self._done = True

    def abort(self) -> None:
        self._data = bytearray()
        self._done = True


class FakeStore(Store):
    capabilities = Capabilities(durable=False)

    def __init__(self, _root: str | None = None) -> None:
        self.blobs: dict[str, bytes] = {}
        self.lock = threading.Lock()

    def begin(self, image_id: str) -> StoreWriter:
        return FakeWriter(self, image_id)

    def read(self, image_id: str, start: int = 0, end: int | None = None, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        with self.lock:
            data = self.blobs[image_id] if image_id in self.blobs else None
        if data is None:
            raise FileNotFoundError(image_id)
        view = data[start:end]
        return iter([view[i : i + chunk_size] for i in range(0, len(view), chunk_size)])

    def size(self, image_id: str) -> int | None:
        with self.lock:
            data = self.blobs.get(image_id)
        return None if data is None else len(data)

    def delete(self, image_id: str) -> None:
        with self.lock:
            self.blobs.pop(image_id, None)
