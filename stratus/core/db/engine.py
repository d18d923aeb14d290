"""Engines and sessions for SQLite (WAL, the default) and PostgreSQL (by URL).

SQLite allows one writer at a time. Write transactions start with ``BEGIN IMMEDIATE`` so two
writers queue on the lock (with a busy timeout) instead of failing with "database is locked"
half-way through; read-only sessions use a plain deferred ``BEGIN`` and never wait for writers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from stratus.core.db.outage import DatabaseUnavailable


class Base(DeclarativeBase):
    """Declarative base; each service subclasses it with its own metadata (see ``base_for``)."""


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _prepare_sqlite(url: sa.URL) -> None:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def ensure_postgres_database(url: sa.URL) -> None:
    """Create the PostgreSQL database named in ``url`` if it does not exist yet."""
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}).scalar()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{url.database}"')
    finally:
        admin.dispose()


class Database:
    """One service's database: an engine plus read/write session factories."""

    def __init__(self, url: str, *, echo: bool = False):
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.is_sqlite:
            _prepare_sqlite(self.url)
            kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
        else:
            if self.url.get_backend_name() == "postgresql":
                ensure_postgres_database(self.url)
            kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
        self.engine = sa.create_engine(self.url, **kwargs)
        if self.is_sqlite:
            self._install_sqlite_hooks()
        self._writer = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._reader = sessionmaker(bind=self.engine.execution_options(stratus_readonly=True), expire_on_commit=False)

    def _install_sqlite_hooks(self) -> None:
        @event.listens_for(self.engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(self.engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            readonly = conn.get_execution_options().get("stratus_readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write transaction: committed on success, rolled back on any error."""
        with _translate_outage(), self._writer() as session, session.begin():
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A read-only transaction (never takes SQLite's write lock)."""
        with _translate_outage(), self._reader() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()


OUTAGE_MESSAGE = "The database is unavailable; retry shortly."

# Driver messages that mean "the server is gone or not ready", not "this statement is wrong" (psycopg and
# sqlite3; lower case). "the database system is" covers starting up, shutting down and in recovery.
_OUTAGE_TEXTS = (
    "connection refused",
    "server closed",
    "terminating connection",
    "could not connect",
    "the database system is",
    "connection timeout expired",
    "no connection to the server",
    "connection is lost",
    "connection is closed",
    "could not receive data",
    "could not send data",
    "connection reset",
    "broken pipe",
    "ssl syscall error",
)


@contextmanager
def _translate_outage() -> Iterator[None]:
    """A lost database connection becomes a clean 503 with Retry-After, not a 500."""
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError) as err:
        if is_outage(err):
            raise DatabaseUnavailable(OUTAGE_MESSAGE) from err
        raise


def is_outage(err: exc.DBAPIError) -> bool:
    """True if ``err`` means the database server is unreachable or restarting (so retrying later helps).

    Every InterfaceError counts (the driver lost its connection); an OperationalError counts when SQLAlchemy
    invalidated the connection or the driver's message says the server went away.
    """
    if isinstance(err, exc.InterfaceError) or err.connection_invalidated:
        return True
    if not isinstance(err, exc.OperationalError):
        return False
    text = str(err.orig).lower()
    return any(s in text for s in _OUTAGE_TEXTS)
