"""A private RabbitMQ broker per test: its own node name, ports, mnesia and Erlang cookie (HOME).

Never touches the machine's RabbitMQ. ``restart()`` stops and starts the node on the same mnesia dir, as a
broker restart in production does. Skipped, saying why, when rabbitmq-server is not installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")  # the real script; /usr/sbin's switches user
START_TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)  # polling with a deadline


class PrivateBroker:
    """One foreground rabbitmq-server; ``url`` is its amqp:// URL (guest allowed from loopback)."""

    def __init__(self, base: Path):
        self.base = base
        self.port = _free_port()
        self.dist_port = _free_port()
        self.url = f"amqp://guest:guest@127.0.0.1:{self.port}//"
        self.process: subprocess.Popen[bytes] | None = None
        config = base / "rabbitmq.conf"
        config.write_text(f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n")
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin"),
            "HOME": str(base),  # its own .erlang.cookie
            "RABBITMQ_NODENAME": f"stratus-t{os.getpid()}-{self.port}@localhost",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
            "RABBITMQ_LOG_BASE": str(base / "log"),
            "RABBITMQ_PID_FILE": str(base / "rabbitmq.pid"),
            "RABBITMQ_CONFIG_FILE": str(config),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
            "RABBITMQ_ENABLED_PLUGINS": "",
        }

    def start(self) -> None:
        log = (self.base / "server.out").open("ab")
        self.process = subprocess.Popen(  # foreground; its own session so stop() can reach beam by group id
            [str(RABBITMQ_SERVER)], env=self.env, cwd=self.base, stdout=log, stderr=log, start_new_session=True
        )
        log.close()
        _wait(lambda: _port_open(self.port) or self.process.poll() is not None, START_TIMEOUT, "RabbitMQ to start")
        if self.process.poll() is not None:
            raise RuntimeError(f"rabbitmq-server exited: {(self.base / 'server.out').read_text()[-2000:]}")

    def stop(self) -> None:
        """Stop the node (SIGTERM is RabbitMQ's clean shutdown) and wait for its whole process group."""
        proc, self.process = self.process, None
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=30)
            _wait(lambda: not _port_open(self.port), 10, "RabbitMQ to close its port")
        except (subprocess.TimeoutExpired, TimeoutError):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture
def broker() -> Iterator[PrivateBroker]:
    if not RABBITMQ_SERVER.exists():
        pytest.skip(f"{RABBITMQ_SERVER} is not installed")
    base = Path(tempfile.mkdtemp(prefix="stratus-rmq-"))
    rabbit = PrivateBroker(base)
    try:
        rabbit.start()
        yield rabbit
    finally:
        try:
            rabbit.stop()
        finally:
            shutil.rmtree(base, ignore_errors=True)
