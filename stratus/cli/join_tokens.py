"""Admissions of compute hosts: one-time join tokens, bound to a host name, stored only hashed, with an expiry.

``stratus host admit <host>`` (on the controller) calls ``AdmissionStore.admit`` and prints the token once;
the controller's join API calls ``AdmissionStore.redeem`` with what ``stratus join`` sends. The store is a
JSON file in the controller's state directory (``<state_dir>/join/admissions.json``, mode 0600), changed
under an exclusive ``flock`` so a token can be redeemed once only, even by two requests at the same time.
Only the controller's administrator (who owns the state directory) can admit a host.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

DEFAULT_TTL = 3600.0
HOSTNAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}")
"""A host name: what becomes ``[core] host``, the chassis name and the compute service's host."""


class JoinRefused(Exception):
    """A join attempt that must not succeed; the message says why (it is shown to the joining host)."""


def check_hostname(hostname: str) -> str:
    if not HOSTNAME.fullmatch(hostname or ""):
        raise ValueError(
            f"invalid host name {hostname!r}: 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return hostname


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Admission:
    hostname: str
    token_sha256: str
    admitted_at: float
    expires_at: float
    joined_at: float | None = None


class AdmissionStore:
    """The admissions of one controller, in ``<state_dir>/join/``; ``clock`` is for tests."""

    def __init__(self, state_dir: Path | str, clock: Callable[[], float] = time.time):
        self.directory = Path(state_dir) / "join"
        self.path = self.directory / "admissions.json"
        self._clock = clock

    def admit(self, hostname: str, ttl: float = DEFAULT_TTL) -> str:
        """A new token for ``hostname`` (replacing any earlier admission of it); shown once, stored hashed."""
        check_hostname(hostname)
        if ttl <= 0:
            raise ValueError("the token's lifetime must be positive")
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._locked() as admissions:
            admissions[hostname] = Admission(hostname, token_digest(token), now, now + ttl)
        return token

    def redeem(self, hostname: str, token: str) -> Admission:
        """Spend ``token`` for ``hostname``; JoinRefused unless it was admitted, matches, is unused and unexpired."""
        with self._locked() as admissions:
            found = admissions.get(hostname)
            if found is None:
                raise JoinRefused(f"host {hostname!r} was not admitted (on the controller: stratus host admit ...)")
            if not hmac.compare_digest(found.token_sha256, token_digest(token or "")):
                raise JoinRefused(f"the join token is not the one issued for host {hostname!r}")
            if found.joined_at is not None:
                raise JoinRefused(f"the join token of host {hostname!r} was already used; admit the host again")
            if self._clock() >= found.expires_at:
                raise JoinRefused(f"the join token of host {hostname!r} has expired; admit the host again")
            found.joined_at = self._clock()
            return Admission(**asdict(found))

    def list(self) -> list[Admission]:
        with self._locked() as admissions:
            return [Admission(**asdict(a)) for a in sorted(admissions.values(), key=lambda a: a.hostname)]

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Admission]]:
        """The admissions, read and written back under an exclusive lock."""
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = os.open(self.directory / "admissions.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            admissions = {name: Admission(**data) for name, data in self._read().items()}
            yield admissions
            self._write({name: asdict(a) for name, a in admissions.items()})
        finally:
            os.close(lock)  # releases the lock

    def _read(self) -> dict[str, Any]:
        try:
            data: dict[str, Any] = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        return data

    def _write(self, data: dict[str, Any]) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(data, f, indent=2)
        os.replace(tmp, self.path)
