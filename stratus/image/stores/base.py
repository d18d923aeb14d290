"""The image data store interface: write once through a writer, read back in chunks, delete."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Capabilities:
    durable: bool
    """Data survives a restart of the process."""


class StoreWriter(abc.ABC):
    """Receives one image's data; nothing is visible to readers until :meth:`commit`."""

    @abc.abstractmethod
    def write(self, chunk: bytes) -> None:
        """Append ``chunk``. Raises OSError when the store cannot take it (e.g. disk full)."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Make the data durable and visible under the image id, replacing nothing (ids are new)."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Throw away whatever was written. Idempotent, never raises."""


class Store(abc.ABC):
    """Where image data lives, keyed by image id."""

    capabilities: Capabilities

    @abc.abstractmethod
    def begin(self, image_id: str) -> StoreWriter:
        """Start writing the data of ``image_id``."""

    @abc.abstractmethod
    def read(self, image_id: str, start: int = 0, end: int | None = None, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Yield bytes ``start`` .. ``end`` (exclusive; None = to the end) in chunks.

        The data is opened before the first chunk is asked for, so a concurrent delete does not
        cut a download short. Raises FileNotFoundError when there is no data.
        """

    @abc.abstractmethod
    def size(self, image_id: str) -> int | None:
        """Bytes stored for ``image_id``, or None when there is none."""

    @abc.abstractmethod
    def delete(self, image_id: str) -> None:
        """Remove the data of ``image_id``. Idempotent."""


ENTRY_POINT_GROUP = "stratus.image.stores"
BUILTIN = {"file": "stratus.image.stores.file:FileStore", "fake": "stratus.image.stores.fake:FakeStore"}


def open_store(kind: str, root: str) -> Store:
    """The store named in config: an entry point of ``stratus.image.stores`` or a built-in one.

    Store classes take the store directory as their only argument (the fake ignores it).
    """
    from importlib import import_module
    from importlib.metadata import entry_points

    found = [ep for ep in entry_points(group=ENTRY_POINT_GROUP) if ep.name == kind]
    if found:
        cls = found[0].load()
    elif kind in BUILTIN:
        module, _, name = BUILTIN[kind].partition(":")
        cls = getattr(import_module(module), name)
    else:
        raise ValueError(f"unknown image store {kind!r} (expected one of {', '.join(BUILTIN)})")
    return cls(root)  # type: ignore[no-any-return]
