"""The bus behaviour tests of tests/unit/core/test_bus.py, against RabbitMQ, plus broker failure handling.

Needs RabbitMQ on 127.0.0.1:5672 with guest/guest (skipped, saying so, when the port is closed).
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from stratus.core.bus import Bus, BusUnavailable
from stratus.core.bus import connection as bus_connection
from tests.unit.core.test_bus import *  # noqa: F403 - the shared behaviour tests, run again here
from tests.unit.core.test_bus import WAIT, Recorder, wait_until

RABBITMQ_URL = "amqp://guest:guest@127.0.0.1:5672//"


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.skipif(not _port_open("127.0.0.1", 5672), reason="RabbitMQ is not listening on 127.0.0.1:5672"),
]


@pytest.fixture
def bus_url() -> str:
    return RABBITMQ_URL


@pytest.fixture
def quick_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(bus_connection.RETRY_POLICY, "max_retries", 1)
    monkeypatch.setitem(bus_connection.RETRY_POLICY, "interval_step", 0.1)
    monkeypatch.setattr(bus_connection, "CONNECT_TIMEOUT", 1.0)
    monkeypatch.setattr(bus_connection, "READY_TIMEOUT", 1.0)


@pytest.fixture
def dead_bus(quick_retry: None) -> Iterator[Bus]:
    """A Bus pointed at a port where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    b = Bus(f"amqp://guest:guest@127.0.0.1:{port}//", default_timeout=1.0)
    yield b
    b.close()


def test_unreachable_broker_raises_bus_unavailable(dead_bus: Bus) -> None:
    with pytest.raises(BusUnavailable, match="unavailable"):
        dead_bus.cast("anything", "poke")
    with pytest.raises(BusUnavailable):
        dead_bus.call("anything", "poke")


def test_serve_on_unreachable_broker_raises_bus_unavailable(dead_bus: Bus) -> None:
    with pytest.raises(BusUnavailable):
        dead_bus.serve("anything", Recorder())
    with pytest.raises(BusUnavailable):
        dead_bus.subscribe("anything.#", lambda event_type, payload: None)


def _kill(conn: object) -> None:
    """Cut a kombu connection's socket under it, as a broker restart or a network blip would."""
    sock = conn.connection.transport.sock  # type: ignore[attr-defined]
    sock.shutdown(socket.SHUT_RDWR)


def test_server_and_reply_consumers_reconnect(bus: Bus, server_bus: Bus) -> None:
    topic = f"test-{uuid.uuid4().hex[:12]}"
    server = server_bus.serve(topic, Recorder())
    assert bus.call(topic, "add", a=1, b=1) == 2
    replies = bus._replies
    assert replies is not None and server.connection is not None and replies.connection is not None
    old_server_conn, old_reply_conn = server.connection, replies.connection
    _kill(old_server_conn)
    _kill(old_reply_conn)
    assert wait_until(lambda: server.connection is not old_server_conn and server._ready.is_set())
    assert wait_until(lambda: replies.connection is not old_reply_conn and replies._ready.is_set())
    assert bus.call(topic, "add", a=2, b=2, timeout=WAIT) == 4


def test_publisher_reconnects(bus: Bus, server_bus: Bus) -> None:
    topic = f"test-{uuid.uuid4().hex[:12]}"
    server_bus.serve(topic, Recorder())
    assert bus.call(topic, "add", a=1, b=1) == 2
    for producer in list(bus._publisher._idle.queue):
        _kill(producer.connection)
    assert bus.call(topic, "add", a=2, b=3) == 5


def test_a_request_whose_server_lost_the_broker_before_its_ack_is_delivered_again(
    bus: Bus, server_bus: Bus, topic: str
) -> None:
    """What the ack waits for: a server that dies (here: loses its connection) after ``accept`` took a request
    on but before the ack gets it again, so no request is lost between the two (memory:// has no such
    redelivery, hence only here)."""
    endpoint = Recorder()
    accepted: list[int] = []
    server = None

    def accept(method: str, kwargs: dict[str, Any]) -> bool:
        accepted.append(kwargs["n"])
        if len(accepted) == 1:
            assert server is not None
            server.connection.close()  # the ack that follows cannot reach the broker
        return True

    server = server_bus.serve(topic, endpoint, workers=1, accept=accept)
    bus.cast(topic, "poke", n=1)
    assert wait_until(lambda: len(endpoint.calls) >= 1)
    assert bus.call(topic, "add", a=0, b=0) == 0
    assert accepted[:2] == [1, 1], "the request was not delivered again"
    assert [kwargs["n"] for name, kwargs in endpoint.calls if name == "poke"] == [1]
