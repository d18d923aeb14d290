"""Server-side sessions: the browser holds only a random id; tokens never leave this process.

A session exists from the first page (so the login form carries a CSRF token too) and is
replaced by a fresh id at login, so an id planted before login is worthless afterwards.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Project:
    id: str
    name: str


@dataclass
class Session:
    """One browser's state. ``token`` is project-scoped; ``unscoped_token`` is kept to re-scope."""

    id: str
    csrf: str
    last_seen: float
    user_id: str = ""
    user_name: str = ""
    domain_name: str = ""
    unscoped_token: str = ""
    token: str = ""
    token_expires: float = 0.0
    project: Project | None = None
    projects: list[Project] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    endpoints: dict[str, str] = field(default_factory=dict)
    flashes: list[tuple[str, str]] = field(default_factory=list)

    @property
    def logged_in(self) -> bool:
        return bool(self.token) and self.token_expires > time.time()

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles

    def flash(self, level: str, message: str) -> None:
        """Queue a message for the next page (``level``: success, error or info)."""
        self.flashes.append((level, message))

    def pop_flashes(self) -> list[tuple[str, str]]:
        out, self.flashes = self.flashes, []
        return out

    def check_csrf(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(presented.encode(), self.csrf.encode())

    def __repr__(self) -> str:  # never let a token reach a log line through a repr
        return f"Session(user={self.user_name!r}, project={self.project.name if self.project else None!r})"


class SessionStore:
    """Thread-safe, in-memory, least-recently-used sessions with an idle timeout."""

    def __init__(self, idle_timeout: float, max_sessions: int):
        self._idle = idle_timeout
        self._max = max_sessions
        self._items: OrderedDict[str, Session] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        now = time.monotonic()
        with self._lock:
            session = self._items.get(session_id)
            if session is None:
                return None
            if now - session.last_seen > self._idle:
                del self._items[session_id]
                return None
            session.last_seen = now
            self._items.move_to_end(session_id)
            return session

    def create(self, **values: Any) -> Session:
        session = Session(id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32), last_seen=time.monotonic())
        for key, value in values.items():
            setattr(session, key, value)
        with self._lock:
            self._items[session.id] = session
            while len(self._items) > self._max:
                self._items.popitem(last=False)
        return session

    def rotate(self, session: Session) -> Session:
        """The same state under a new id and CSRF token (done at login)."""
        with self._lock:
            self._items.pop(session.id, None)
        fresh = self.create()
        fresh.flashes = session.flashes
        return fresh

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._items.pop(session_id, None)

    def drain(self) -> list[Session]:
        """Remove and return every session (service shutdown revokes their tokens)."""
        with self._lock:
            items = list(self._items.values())
            self._items.clear()
        return items

    def __len__(self) -> int:
        return len(self._items)
