"""What every manager shares: dependencies, ids, the retry-on-conflict wrapper, owner checks."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import exc
from sqlalchemy.orm import Session

from stratus.core.context import RequestContext
from stratus.core.db import Database
from stratus.core.policy import Enforcer
from stratus.network.conf import NetworkConfig
from stratus.network.errors import NeutronBadRequest, PolicyNotAuthorized

if TYPE_CHECKING:
    from stratus.network.core.dataplane import DataPlane

LOG = logging.getLogger(__name__)
T = TypeVar("T")
RETRIES = 20


class WriteSerializer:
    """The service's database, with write transactions queued on a Python lock when it is SQLite.

    SQLite has one writer; contending writers otherwise wait in SQLite's busy handler, which sleeps in
    growing steps and gives concurrent port creates a long latency tail. PostgreSQL is passed through.
    """

    def __init__(self, db: Database):
        self.db = db
        self.is_sqlite = db.is_sqlite
        self.engine = db.engine
        self._lock = threading.Lock() if db.is_sqlite else None

    @contextmanager
    def session(self) -> Iterator[Session]:
        if self._lock is None:
            with self.db.session() as session:
                yield session
            return
        with self._lock, self.db.session() as session:
            yield session

    def reader(self) -> Any:
        return self.db.reader()

    def dispose(self) -> None:
        self.db.dispose()


@dataclass
class Deps:
    db: WriteSerializer
    conf: NetworkConfig
    enforcer: Enforcer
    dataplane: DataPlane


def new_id() -> str:
    return str(uuid.uuid4())


def retry_on_conflict(fn: Callable[[], T], conflict: Callable[[exc.IntegrityError], Exception | None]) -> T:
    """Run a write transaction, again when it lost a race on a unique key (an IP, a MAC, the default group).

    ``conflict(err)`` returns the error to raise at once instead (a duplicate the *client* asked for),
    or None to retry; after RETRIES lost races the last IntegrityError's conflict becomes a 409.
    """
    last: exc.IntegrityError | None = None
    for _attempt in range(RETRIES):
        try:
            return fn()
        except exc.IntegrityError as err:
            final = conflict(err)
            if final is not None:
                raise final from None
            last = err
            LOG.debug("write lost a race, retrying: %s", err.orig)
    from stratus.network.errors import conflict as make_conflict

    raise make_conflict("Conflict", f"The request kept conflicting with concurrent requests: {last}")


def authorize(deps: Deps, ctx: RequestContext, rule: str, target: dict[str, Any]) -> None:
    if not deps.enforcer.authorize(ctx, rule, target):
        raise PolicyNotAuthorized(f"rule:{rule} is disallowed by policy")


def owner_project(ctx: RequestContext, attrs: dict[str, Any]) -> str:
    """The project a new resource belongs to: the caller's, or (admin only) the one asked for."""
    project = attrs.pop("project_id", None) or ctx.project_id
    if project != ctx.project_id and not ctx.is_admin:
        raise PolicyNotAuthorized("Only admins may create resources in another project.")
    if not project:
        raise NeutronBadRequest("Failed to parse request. Required attribute 'project_id' not specified")
    return project


def visible(ctx: RequestContext, project_id: str) -> bool:
    """Own project, or admin (who sees every project's resources)."""
    return ctx.is_admin or project_id == ctx.project_id
