"""Pure helpers for the test VM build: kernel module ordering and a reproducible newc cpio archive."""

from __future__ import annotations

import gzip
import io
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_NEWC_MAGIC = b"070701"
_VERSION_RE = re.compile(r"(\d+)")


@dataclass(frozen=True)
class Entry:
    """One initramfs member: a directory (data None, no target), a file, or a symlink (target set)."""

    path: str
    mode: int
    data: bytes | None = None
    target: str | None = None


def module_name(relpath: str) -> str:
    """`kernel/drivers/net/virtio_net.ko.xz` -> `virtio_net` (names keep their `-`/`_` as in the file)."""
    base = relpath.rsplit("/", 1)[-1]
    return re.sub(r"\.ko(\.(xz|zst|gz))?$", "", base)


def parse_modules_dep(text: str) -> dict[str, tuple[str, list[str]]]:
    """Parse modules.dep into {module name: (relative path, [dependency names, direct and indirect])}."""
    result: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        path, deps = line.split(":", 1)
        result[module_name(path.strip())] = (path.strip(), [module_name(d) for d in deps.split()])
    return result


def load_order(deps: Mapping[str, tuple[str, list[str]]], wanted: Iterable[str]) -> list[str]:
    """Modules to insmod, dependencies before dependants, each once (depth-first post-order)."""
    order: list[str] = []
    visiting: set[str] = set()

    def visit(name: str) -> None:
        if name in order:
            return
        if name not in deps:
            raise KeyError(f"kernel module {name!r} not found in modules.dep")
        if name in visiting:
            raise ValueError(f"dependency cycle at kernel module {name!r}")
        visiting.add(name)
        # modules.dep lists the full closure, farthest dependency last: visit it in reverse
        for dep in reversed(deps[name][1]):
            visit(dep)
        visiting.discard(name)
        order.append(name)

    for name in wanted:
        visit(name)
    return order


def kernel_version_key(version: str) -> tuple[int, ...]:
    """Sort key for `6.1.0-56-cloud-amd64`-style versions (numeric parts only)."""
    return tuple(int(n) for n in _VERSION_RE.findall(version))


def _newc_header(ino: int, mode: int, size: int, name: bytes) -> bytes:
    fields = [ino, mode, 0, 0, 1, 0, size, 0, 0, 0, 0, len(name) + 1, 0]
    return _NEWC_MAGIC + b"".join(b"%08X" % f for f in fields)


def _pad4(buf: io.BytesIO) -> None:
    buf.write(b"\0" * (-buf.tell() % 4))


def newc_archive(entries: Iterable[Entry]) -> bytes:
    """A newc cpio archive, owner root, mtime 0, members sorted by path so that output is reproducible."""
    buf = io.BytesIO()
    ino = 0
    for entry in sorted(entries, key=lambda e: e.path):
        ino += 1
        if entry.target is not None:
            data, kind = entry.target.encode(), stat.S_IFLNK
        elif entry.data is not None:
            data, kind = entry.data, stat.S_IFREG
        else:
            data, kind = b"", stat.S_IFDIR
        name = entry.path.lstrip("/").encode()
        buf.write(_newc_header(ino, kind | entry.mode, len(data), name) + name + b"\0")
        _pad4(buf)
        buf.write(data)
        _pad4(buf)
    trailer = b"TRAILER!!!"
    buf.write(_newc_header(0, 0, 0, trailer) + trailer + b"\0")
    _pad4(buf)
    return buf.getvalue()


def gzip_reproducible(data: bytes) -> bytes:
    """gzip -9 with mtime 0 and no file name in the header."""
    return gzip.compress(data, compresslevel=9, mtime=0)


def is_static_elf(data: bytes) -> bool:
    """True for a 64-bit little-endian ELF without a PT_INTERP program header (statically linked)."""
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return False
    phoff = int.from_bytes(data[0x20:0x28], "little")
    phentsize = int.from_bytes(data[0x36:0x38], "little")
    phnum = int.from_bytes(data[0x38:0x3A], "little")
    for i in range(phnum):
        off = phoff + i * phentsize
        if int.from_bytes(data[off : off + 4], "little") == 3:  # PT_INTERP
            return False
    return True
