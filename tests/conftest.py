"""Shared fixtures. ``cloud``: a real ``stratus serve`` subprocess on free ports in a temporary state directory.

Database and bus follow the environment: SQLite and ``memory://`` by default; ``STRATUS_TEST_DATABASE=postgresql``
and ``STRATUS_TEST_BUS=amqp`` use the local PostgreSQL and RabbitMQ (as ``scripts/run-tests.sh`` stage 2 does).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
STRATUS_BIN = Path(sys.executable).parent / "stratus"
START_TIMEOUT = 120.0
ALL_SERVICES = ("identity", "image", "compute", "network", "dashboard")
POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel picks it when binding to port 0)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_options(service: str) -> list[str]:
    """The ``port``/``*_port`` options of ``[<service>]`` (from ``stratus.<service>.conf``), if it exists yet."""
    import importlib

    from stratus.core.config import Section

    try:
        module = importlib.import_module(f"stratus.{service}.conf")
    except ImportError:
        return []
    options: set[str] = set()
    for value in vars(module).values():
        if isinstance(value, type) and issubclass(value, Section) and value.__module__ == module.__name__:
            options |= {name for name in value.model_fields if name == "port" or name.endswith("_port")}
    return sorted(options)


def database_url(prefix: str) -> str:
    if os.environ.get("STRATUS_TEST_DATABASE") == "postgresql":
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{prefix}_{{service}}"
    return "sqlite:///{state_dir}/{service}.sqlite"


def bus_url() -> str:
    if os.environ.get("STRATUS_TEST_BUS") == "amqp":
        return "amqp://guest:guest@127.0.0.1:5672//"
    return "memory://"


def drop_postgres_databases(prefix: str) -> None:
    """Start from empty databases: drop ``<prefix>_<service>`` for every service."""
    if os.environ.get("STRATUS_TEST_DATABASE") != "postgresql":
        return
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for service in ALL_SERVICES:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{prefix}_{service}" WITH (FORCE)')
    finally:
        engine.dispose()


def write_config(base: Path, *, db_prefix: str) -> Path:
    """A stratus.toml for a throwaway cloud under ``base``; returns its path."""
    lines = [
        "[core]",
        f'state_dir = "{base / "state"}"',
        f'database_url = "{database_url(db_prefix)}"',
        f'bus_url = "{bus_url()}"',
        'bind_host = "127.0.0.1"',
        'public_host = "127.0.0.1"',
        "",
        "[identity]",
        "password_hash_rounds = 4",
    ]
    # The API-level clouds use the in-memory network back end: no OVN daemons (tests/e2e run the real ones).
    extra = {"network": ['backend = "fake"']}
    for service in ALL_SERVICES:  # every API on a free port, never the real cloud's
        if service != "identity":
            lines += ["", f"[{service}]"]
        lines += [f"{option} = {free_port()}" for option in port_options(service)]
        lines += extra.get(service, [])
    lines += [
        "",
        "[network_agent]",
        "enabled = false",
        "",
        "[compute_agent]",
        'driver = "fake"',
        "fake_hosts = 3",
        "heartbeat_interval = 1.0",
    ]  # anti-affinity needs hosts
    path = base / "stratus.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def stratus_env(config: Path, base: Path) -> dict[str, str]:
    """The environment for ``stratus`` and ``openstack`` commands: no inherited OS_* or STRATUS_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "STRATUS_"))}
    env.update(
        STRATUS_CONFIG=str(config),
        OS_CLIENT_CONFIG_FILE=str(base / "state" / "clouds.yaml"),
        XDG_CONFIG_HOME=str(base / "xdg"),
        HOME=str(base / "home"),
    )
    (base / "home").mkdir(exist_ok=True)
    return env


@dataclass
class CloudHandle:
    """A running test cloud: where its files are, how to reach it and who may log in."""

    base: Path
    config: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    admin_password: str = ""
    demo_password: str = ""
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def state_dir(self) -> Path:
        return self.base / "state"

    @property
    def clouds_yaml(self) -> Path:
        return self.state_dir / "clouds.yaml"

    @property
    def auth_url(self) -> str:
        return self.urls["identity"]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""


def wait_ready(handle: CloudHandle, deadline: float) -> None:
    """Wait until ``serve`` has written its runtime file and every API answers; fail with the log otherwise."""
    from stratus.cli import credentials, probe
    from stratus.cli.paths import StatePaths

    paths = StatePaths(handle.state_dir)
    runtime = None
    while time.monotonic() < deadline and handle.process.poll() is None:
        try:
            runtime = json.loads(paths.runtime_file.read_text())
            break
        except (FileNotFoundError, json.JSONDecodeError):
            time.sleep(0.1)  # polling for a file, bounded by the deadline
    if runtime is None:
        pytest.fail(f"stratus serve did not get ready (exit code {handle.process.poll()}):\n{handle.log_tail()}")
    handle.urls = {s["name"]: s["url"] for s in runtime["services"]}
    pending = probe.wait_until_answering(handle.urls.values(), deadline, alive=lambda: handle.process.poll() is None)
    if pending or handle.process.poll() is not None:
        pytest.fail(f"these APIs do not answer: {pending}\n{handle.log_tail()}")
    creds = credentials.load_or_create(paths.credentials)
    handle.admin_password, handle.demo_password = creds.admin_password, creds.demo_password


def stop_process(process: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    """SIGTERM, wait with a deadline, SIGKILL if it lingers; returns the exit code."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(10)


@pytest.fixture(scope="session")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudHandle]:
    """One all-in-one cloud (``stratus serve`` subprocess) shared by the whole session."""
    base = tmp_path_factory.mktemp("cloud")
    prefix = f"stratus_clients_{os.getpid()}"  # concurrent runs never share a database
    drop_postgres_databases(prefix)
    config = write_config(base, db_prefix=prefix)
    env = stratus_env(config, base)
    log = base / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(STRATUS_BIN), "serve", "--config", str(config)],
            env=env,
            cwd=base,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    handle = CloudHandle(base=base, config=config, env=env, process=process, log=log)
    try:
        wait_ready(handle, time.monotonic() + START_TIMEOUT)
        yield handle
    finally:
        code = stop_process(process)
        if code != 0:
            print(f"stratus serve exited with {code}:\n{handle.log_tail()}", file=sys.stderr)


@pytest.fixture(scope="session", autouse=True)
def _drop_this_runs_postgres_databases() -> Iterator[None]:
    """At the end of a PostgreSQL run, drop every database this process made (their names end in its pid)."""
    yield
    if os.environ.get("STRATUS_TEST_DATABASE") != "postgresql":
        return
    import sqlalchemy as sa

    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            pattern = f"stratus\\_%\\_{os.getpid()}%"
            names = conn.execute(sa.text("SELECT datname FROM pg_database WHERE datname LIKE :p"), {"p": pattern})
            for (name,) in list(names):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        engine.dispose()
