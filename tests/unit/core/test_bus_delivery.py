"""At-most-once execution and bounded publishing of stratus.core.bus (memory://; see also tests/functional/bus)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from stratus.core.bus import Bus, BusUnavailable, topology
from stratus.core.bus import connection as bus_connection
from tests.unit.core.test_bus import Recorder, wait_until


@pytest.fixture
def bus() -> Iterator[Bus]:
    b = Bus("memory://", name=f"t{uuid.uuid4().hex[:8]}", default_timeout=5.0)
    yield b
    b.close()


def test_a_resent_request_runs_once(bus: Bus) -> None:
    topic = f"test-{uuid.uuid4().hex[:12]}"
    endpoint = Recorder()
    bus.serve(topic, endpoint, workers=1)
    request = {"method": "poke", "kwargs": {"n": 1}, "expires_at": None, "timeout": None, "message_id": "m-1"}
    for _ in range(2):  # as a publisher resends after a lost confirm: the same message id twice
        bus._publisher.publish(request, exchange=topology.rpc_exchange(bus.name), routing_key=topic)
    bus.cast(topic, "poke", n=2)
    assert bus.call(topic, "add", a=0, b=0) == 0  # one worker, one queue: the casts before it ran
    assert [kwargs["n"] for name, kwargs in endpoint.calls if name == "poke"] == [1, 2]


def test_every_cast_gets_its_own_message_id(bus: Bus) -> None:
    topic = f"test-{uuid.uuid4().hex[:12]}"
    endpoint = Recorder()
    bus.serve(topic, endpoint, workers=1)
    for _ in range(3):
        bus.cast(topic, "poke", n=7)  # identical casts are distinct requests
    assert wait_until(lambda: len(endpoint.calls) == 3)


def test_publish_retries_end_at_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[float] = []

    def refuse(*_args: object, **_kwargs: object) -> None:
        attempts.append(time.monotonic())
        raise ConnectionRefusedError("broker down")

    publisher = bus_connection.Publisher("memory://")
    monkeypatch.setattr(publisher, "_publish_once", refuse)
    monkeypatch.setitem(bus_connection.RETRY_POLICY, "max_retries", 100)
    monkeypatch.setitem(bus_connection.RETRY_POLICY, "interval_start", 0.1)
    started = time.monotonic()
    with pytest.raises(BusUnavailable, match="cast topic-x.poke not sent"):
        publisher.publish({}, exchange="", routing_key="q", deadline=started + 0.5, what="cast topic-x.poke")
    assert 0.4 < time.monotonic() - started < 1.5
    assert len(attempts) > 1


def test_publish_gives_up_after_the_retry_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    publisher = bus_connection.Publisher("memory://")
    calls: list[int] = []

    def refuse(*_args: object, **_kwargs: object) -> None:
        calls.append(1)
        raise ConnectionResetError("broker went away")

    monkeypatch.setattr(publisher, "_publish_once", refuse)
    monkeypatch.setitem(bus_connection.RETRY_POLICY, "max_retries", 3)
    monkeypatch.setitem(bus_connection.RETRY_POLICY, "interval_step", 0.01)
    with pytest.raises(BusUnavailable):
        publisher.publish({}, exchange="", routing_key="q")
    assert len(calls) == 4
