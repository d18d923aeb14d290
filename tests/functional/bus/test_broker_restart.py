"""The bus across a restart of its RabbitMQ broker (a private one, see conftest.py).

Consumers (RPC servers, reply queues, subscriptions) reconnect with backoff and re-declare their queues;
calls in flight complete or fail clearly within their timeout; casts are never lost silently nor run twice.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from stratus.core.bus import Bus, BusUnavailable, MessagingTimeout
from stratus.core.bus import connection as bus_connection
from tests.functional.bus.conftest import PrivateBroker
from tests.unit.core.test_bus import WAIT, Recorder, wait_until

RECOVERY = 30.0  # generous bound for a consumer to be back after the broker is (backoff is at most 5 s)


@pytest.fixture
def bus(broker: PrivateBroker) -> Iterator[Bus]:
    b = Bus(broker.url, default_timeout=WAIT)
    yield b
    b.close()


@pytest.fixture
def server_bus(broker: PrivateBroker) -> Iterator[Bus]:
    b = Bus(broker.url, default_timeout=WAIT)
    yield b
    b.close()


@pytest.fixture
def topic() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


class Gate(Recorder):
    """A Recorder whose ``slow`` method blocks until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.gate = threading.Event()

    def slow(self, value: int) -> int:
        self.entered.set()
        assert self.gate.wait(RECOVERY)
        return value * 2


def test_rpc_and_notifications_work_again_after_a_restart(
    broker: PrivateBroker, bus: Bus, server_bus: Bus, topic: str
) -> None:
    server_bus.serve(topic, Recorder(), server="host1")
    events: list[str] = []
    grouped: list[str] = []
    sub = server_bus.subscribe(f"{topic}.#", lambda event_type, payload: events.append(payload["n"]))
    group = server_bus.subscribe(f"{topic}.#", lambda t, p: grouped.append(p["n"]), group=f"{topic}-g")
    assert bus.call(topic, "add", a=1, b=1) == 2
    bus.notify(f"{topic}.before", {"n": "before"})
    assert wait_until(lambda: events == ["before"] and grouped == ["before"])

    broker.restart()

    # No waiting for the consumers: the call waits for its reply queue, its request waits in the topic's
    # queue (declared by the caller) for the server to come back.
    assert bus.call(topic, "add", a=2, b=3, timeout=RECOVERY) == 5
    assert bus.call(topic, "add", a=3, b=3, server="host1", timeout=RECOVERY) == 6
    assert sub.wait_ready(RECOVERY) and group.wait_ready(RECOVERY)
    bus.notify(f"{topic}.after", {"n": "after"})
    assert wait_until(lambda: events == ["before", "after"] and grouped == ["before", "after"])


def test_call_while_the_broker_is_down_fails_clearly_within_its_timeout(
    broker: PrivateBroker, bus: Bus, server_bus: Bus, topic: str
) -> None:
    server_bus.serve(topic, Recorder())
    assert bus.call(topic, "add", a=1, b=1) == 2
    broker.stop()
    started = time.monotonic()
    with pytest.raises((BusUnavailable, MessagingTimeout)) as info:
        bus.call(topic, "add", a=1, b=2, timeout=3.0)
    assert time.monotonic() - started < 3.0 + 1.5
    assert topic in str(info.value)
    broker.start()
    assert bus.call(topic, "add", a=2, b=2, timeout=RECOVERY) == 4


def test_call_in_flight_during_a_restart_completes(
    broker: PrivateBroker, bus: Bus, server_bus: Bus, topic: str
) -> None:
    endpoint = Gate()
    server_bus.serve(topic, endpoint)
    result: dict[str, Any] = {}

    def caller() -> None:
        try:
            result["value"] = bus.call(topic, "slow", value=21, timeout=2 * RECOVERY)
        except Exception as exc:  # the test checks what it got
            result["error"] = exc

    thread = threading.Thread(target=caller)
    thread.start()
    assert endpoint.entered.wait(WAIT)
    broker.restart()  # the request was taken (acked) before: it is not redelivered
    endpoint.gate.set()  # the reply is sent once the caller's reply queue is back
    thread.join(2 * RECOVERY + 5)
    assert not thread.is_alive()
    assert result == {"value": 42}
    assert [name for name, _ in endpoint.calls] == []  # slow() does not record; nothing else ran


def test_casts_across_a_restart_are_neither_lost_nor_duplicated(
    broker: PrivateBroker,
    bus: Bus,
    server_bus: Bus,
    topic: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint = Recorder()
    server_bus.serve(topic, endpoint, workers=1)  # one worker: requests run in queue order
    for n in range(10):
        bus.cast(topic, "poke", n=n)
    assert bus.call(topic, "add", a=0, b=0) == 0  # a barrier: the casts before it ran

    broker.stop()
    monkeypatch.setitem(bus_connection.RETRY_POLICY, "max_retries", 3)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="stratus.core.bus.connection"):
        with pytest.raises(BusUnavailable, match=topic):
            bus.cast(topic, "poke", n=-1)
    assert time.monotonic() - started < 10
    assert any("giving up" in r.getMessage() and topic in r.getMessage() for r in caplog.records)

    broker.start()
    for n in range(10, 30):  # sent before the server is back: they wait in the queue the caster declared
        bus.cast(topic, "poke", n=n)
    assert bus.call(topic, "add", a=0, b=0, timeout=RECOVERY) == 0
    pokes = [kwargs["n"] for name, kwargs in endpoint.calls if name == "poke"]
    assert Counter(pokes) == Counter(range(30))


def test_casts_waiting_for_their_server_survive_a_restart(
    broker: PrivateBroker, bus: Bus, server_bus: Bus, topic: str
) -> None:
    """A host agent that is down when the broker restarts still gets the builds cast to it meanwhile."""
    for n in range(5):
        bus.cast(topic, "poke", server="host-1", n=n)  # nobody serves the topic yet: they wait in its queue
    broker.restart()
    endpoint = Recorder()
    server_bus.serve(topic, endpoint, server="host-1", workers=1)
    assert bus.call(topic, "add", server="host-1", a=0, b=0, timeout=RECOVERY) == 0  # a barrier
    pokes = [kwargs["n"] for name, kwargs in endpoint.calls if name == "poke"]
    assert pokes == list(range(5))
