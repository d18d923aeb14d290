"""The Fernet key repository, laid out as Keystone's: files named 0 (staged), 1..N (N primary).

Rotation promotes the staged key to primary, stages a new key and drops the oldest secondaries
beyond ``max_active_keys``, so tokens issued before a rotation stay valid until they expire.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet


def _key_files(repo: Path) -> dict[int, Path]:
    return {int(p.name): p for p in repo.iterdir() if p.name.isdigit()}


def _write_key(path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(Fernet.generate_key())
        f.flush()
        os.fsync(f.fileno())
    tmp.rename(path)


def setup(repo: Path) -> None:
    """Create the repository with a staged and a primary key if it has none."""
    repo.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = _key_files(repo)
    if 0 not in keys:
        _write_key(repo / "0")
    if not any(k > 0 for k in keys):
        _write_key(repo / "1")


def rotate(repo: Path, max_active_keys: int = 3) -> int:
    """Promote the staged key, stage a new one, prune old ones; returns the new primary index."""
    setup(repo)
    keys = _key_files(repo)
    new_primary = max(keys) + 1
    keys[0].rename(repo / str(new_primary))
    _write_key(repo / "0")
    keys = _key_files(repo)
    secondaries = sorted(k for k in keys if 0 < k < new_primary)
    excess = len(keys) - max_active_keys
    for index in secondaries[: max(0, excess)]:
        keys[index].unlink()
    return new_primary


class KeyRing:
    """Loads the keys (primary first) and reloads them when the repository changes on disk."""

    def __init__(self, repo: Path):
        self.repo = repo
        self._lock = threading.Lock()
        self._stamp: tuple[int, ...] | None = None
        self._fernet: MultiFernet | None = None
        setup(repo)

    def _current_stamp(self) -> tuple[int, ...]:
        stat = self.repo.stat()
        return (stat.st_mtime_ns, stat.st_ino)

    def fernet(self) -> MultiFernet:
        stamp = self._current_stamp()
        with self._lock:
            if self._fernet is None or stamp != self._stamp:
                keys = _key_files(self.repo)
                primary_first = sorted(keys, key=lambda k: (k == 0, -k))  # primary (max) first, staged last
                self._fernet = MultiFernet([Fernet(keys[k].read_bytes().strip()) for k in primary_first])
                self._stamp = stamp
            return self._fernet
