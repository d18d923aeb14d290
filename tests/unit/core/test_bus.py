"""Behaviour of stratus.core.bus, on memory:// here.

tests/functional/core/test_bus_rabbitmq.py imports these tests and runs them again against RabbitMQ by
overriding the ``bus_url`` fixture. memory:// state is process-global, so every test uses fresh topic names.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import kombu
import pytest

from stratus.core.bus import Bus, BusUnavailable, MessagingTimeout, RemoteError, topology
from stratus.core.bus.connection import broker_lock, connect
from stratus.core.exceptions import NotFound

WAIT = 10.0  # upper bound for anything that should happen "soon"


@pytest.fixture
def bus_url() -> str:
    return "memory://"


@pytest.fixture
def bus(bus_url: str) -> Iterator[Bus]:
    """The caller's Bus."""
    b = Bus(bus_url, default_timeout=WAIT)
    yield b
    b.close()


@pytest.fixture
def server_bus(bus_url: str) -> Iterator[Bus]:
    """A second Bus for the serving side, as the API and an agent each have their own."""
    b = Bus(bus_url, default_timeout=WAIT)
    yield b
    b.close()


@pytest.fixture
def topic() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def wait_until(predicate: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll ``predicate`` until true or ``timeout``; for effects that have no event to wait on."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class Recorder:
    """Endpoint that records what it was asked to do, and by which server."""

    def __init__(self, name: str = ""):
        self.name = name
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()
        self.event = threading.Event()

    def _record(self, method: str, **kwargs: Any) -> None:
        with self.lock:
            self.calls.append((method, kwargs))
        self.event.set()

    def add(self, a: int, b: int) -> int:
        self._record("add", a=a, b=b)
        return a + b

    def echo(self, value: Any) -> dict[str, Any]:
        self._record("echo", value=value)
        return {"value": value, "server": self.name}

    def poke(self, n: int = 0) -> None:
        self._record("poke", n=n)

    def not_found(self) -> None:
        raise NotFound("image 42 not found")

    def value_error(self) -> None:
        raise ValueError("bad value")

    def unserialisable(self) -> object:
        return object()

    def _secret(self) -> str:
        return "secret"


# RPC call


def test_call_returns_value_and_passes_kwargs(bus: Bus, server_bus: Bus, topic: str) -> None:
    endpoint = Recorder()
    server_bus.serve(topic, endpoint)
    assert bus.call(topic, "add", a=2, b=40) == 42
    assert bus.call(topic, "echo", value={"nested": [1, "two", None]}) == {
        "value": {"nested": [1, "two", None]},
        "server": "",
    }
    assert endpoint.calls[0] == ("add", {"a": 2, "b": 40})


def test_remote_exception_becomes_remote_error(bus: Bus, server_bus: Bus, topic: str) -> None:
    server_bus.serve(topic, Recorder())
    with pytest.raises(RemoteError) as info:
        bus.call(topic, "not_found")
    assert (info.value.exc_type, info.value.message, info.value.status) == ("NotFound", "image 42 not found", 404)
    with pytest.raises(RemoteError) as info:
        bus.call(topic, "value_error")
    assert (info.value.exc_type, info.value.message, info.value.status) == ("ValueError", "bad value", None)


def test_unknown_and_private_methods_are_refused(bus: Bus, server_bus: Bus, topic: str) -> None:
    server_bus.serve(topic, Recorder())
    for method in ("no_such_method", "_secret", "__init__", "lock"):
        with pytest.raises(RemoteError) as info:
            bus.call(topic, method)
        assert info.value.exc_type == "NoSuchMethod"
        assert method in info.value.message


def test_call_to_unconsumed_topic_times_out_naming_the_topic(bus: Bus, topic: str) -> None:
    start = time.monotonic()
    with pytest.raises(MessagingTimeout) as info:
        bus.call(topic, "spawn", timeout=0.5)
    elapsed = time.monotonic() - start
    assert 0.5 <= elapsed < 2.0
    assert str(info.value) == f"No reply from topic {topic!r} for method 'spawn' within 0.5 s"
    assert info.value.status == 504
    with pytest.raises(MessagingTimeout, match=f"'{topic}.host1'"):
        bus.call(topic, "spawn", server="host1", timeout=0.2)


def test_arguments_must_be_json_serialisable(bus: Bus, server_bus: Bus, topic: str) -> None:
    server_bus.serve(topic, Recorder())
    with pytest.raises(TypeError):
        bus.call(topic, "echo", value=object())
    with pytest.raises(RemoteError) as info:
        bus.call(topic, "unserialisable")
    assert info.value.exc_type == "TypeError"


def test_request_expired_while_queued_is_not_executed(bus: Bus, server_bus: Bus, topic: str) -> None:
    release = threading.Event()

    class Slow(Recorder):
        def block(self) -> None:
            self._record("block")
            assert release.wait(WAIT)

    endpoint = Slow()
    server_bus.serve(topic, endpoint, workers=1)
    bus.cast(topic, "block")
    assert endpoint.event.wait(WAIT)
    with pytest.raises(MessagingTimeout):
        bus.call(topic, "poke", n=1, timeout=0.3)  # queued behind "block" until after the caller gave up
    release.set()
    assert bus.call(topic, "add", a=1, b=1) == 2  # one worker: everything queued before was handled first
    assert [call[0] for call in endpoint.calls] == ["block", "add"]


def test_request_expired_while_its_server_was_down_is_not_executed(bus: Bus, server_bus: Bus, topic: str) -> None:
    endpoint = Recorder()
    server_bus.serve(topic, endpoint, server="h1").stop()  # the queues stay, nobody consumes them
    with pytest.raises(MessagingTimeout):
        bus.call(topic, "poke", server="h1", n=1, timeout=0.2)
    server_bus.serve(topic, endpoint, server="h1", workers=1)
    assert bus.call(topic, "add", server="h1", a=1, b=1) == 2
    assert [call[0] for call in endpoint.calls] == ["add"]


# cast, per-host topics, fanout, distribution


def test_cast_executes(bus: Bus, server_bus: Bus, topic: str) -> None:
    endpoint = Recorder()
    server_bus.serve(topic, endpoint)
    assert bus.cast(topic, "poke", n=7) is None
    assert endpoint.event.wait(WAIT)
    assert endpoint.calls == [("poke", {"n": 7})]


def test_per_host_topic_reaches_that_server_only(bus: Bus, server_bus: Bus, topic: str) -> None:
    host_a, host_b = Recorder("host-a"), Recorder("host-b")
    server_bus.serve(topic, host_a, server="host-a")
    server_bus.serve(topic, host_b, server="host-b")
    for i in range(10):
        assert bus.call(topic, "echo", server="host-b", value=i)["server"] == "host-b"
        bus.cast(topic, "poke", server="host-a", n=i)
    assert wait_until(lambda: len(host_a.calls) == 10)
    assert all(call[0] == "poke" for call in host_a.calls)
    assert [call[1]["value"] for call in host_b.calls] == list(range(10))


def test_fanout_reaches_every_server(bus: Bus, server_bus: Bus, topic: str) -> None:
    servers = [Recorder(f"host-{i}") for i in range(3)]
    for endpoint in servers:
        server_bus.serve(topic, endpoint, server=endpoint.name)
    bus.fanout(topic, "poke", n=1)
    assert all(endpoint.event.wait(WAIT) for endpoint in servers)
    assert wait_until(lambda: sum(len(endpoint.calls) for endpoint in servers) == 3)
    assert all(endpoint.calls == [("poke", {"n": 1})] for endpoint in servers)


def test_plain_topic_delivers_each_request_to_exactly_one_server(bus: Bus, server_bus: Bus, topic: str) -> None:
    servers = [Recorder("host-a"), Recorder("host-b")]
    for endpoint in servers:
        server_bus.serve(topic, endpoint, server=endpoint.name)
    replies = [bus.call(topic, "echo", value=i) for i in range(20)]
    for i in range(20, 40):
        bus.cast(topic, "echo", value=i)
    assert [reply["value"] for reply in replies] == list(range(20))
    assert wait_until(lambda: sum(len(endpoint.calls) for endpoint in servers) >= 40)
    handled = Counter(call[1]["value"] for endpoint in servers for call in endpoint.calls)
    assert handled == Counter(range(40))


def test_concurrent_calls_get_their_own_replies(bus: Bus, server_bus: Bus, topic: str) -> None:
    server_bus.serve(topic, Recorder("a"), workers=8)
    server_bus.serve(topic, Recorder("b"), workers=8)
    errors: list[BaseException] = []

    def caller(n: int) -> None:
        try:
            for i in range(25):
                value = f"{n}-{i}"
                assert bus.call(topic, "echo", value=value)["value"] == value
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT * 3)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == []


# notifications


def test_subscribe_by_pattern(bus: Bus, server_bus: Bus) -> None:
    prefix = f"ev{uuid.uuid4().hex[:8]}"
    received: dict[str, list[tuple[str, dict[str, Any]]]] = {"all": [], "instance": []}
    server_bus.subscribe(f"{prefix}.#", lambda et, p: received["all"].append((et, p)))
    server_bus.subscribe(f"{prefix}.compute.instance.*", lambda et, p: received["instance"].append((et, p)))
    bus.notify(f"{prefix}.compute.instance.create", {"id": 1}, publisher="compute.host1")
    bus.notify(f"{prefix}.compute.instance.create.end", {"id": 2})
    bus.notify(f"{prefix}.identity.token.revoked", {"id": 3})
    bus.notify(f"other{prefix}.identity.token.revoked", {"id": 4})
    assert wait_until(lambda: len(received["all"]) == 3 and len(received["instance"]) == 1)
    assert [p["id"] for _, p in received["all"]] == [1, 2, 3]
    assert received["instance"] == [(f"{prefix}.compute.instance.create", {"id": 1})]


def test_subscribers_in_a_group_share_the_events(bus: Bus, server_bus: Bus, bus_url: str) -> None:
    prefix, group = f"ev{uuid.uuid4().hex[:8]}", f"group-{uuid.uuid4().hex[:8]}"
    lock = threading.Lock()
    got: dict[str, list[int]] = {"g1": [], "g2": [], "solo": []}

    def collect(key: str) -> Callable[[str, dict[str, Any]], None]:
        def callback(event_type: str, payload: dict[str, Any]) -> None:
            with lock:
                got[key].append(payload["n"])

        return callback

    try:
        server_bus.subscribe(f"{prefix}.#", collect("g1"), group=group)
        server_bus.subscribe(f"{prefix}.#", collect("g2"), group=group)
        server_bus.subscribe(f"{prefix}.#", collect("solo"))
        for n in range(30):
            bus.notify(f"{prefix}.thing.happened", {"n": n})
        assert wait_until(lambda: len(got["g1"]) + len(got["g2"]) == 30 and len(got["solo"]) == 30)
        assert sorted(got["g1"] + got["g2"]) == list(range(30))
        assert got["solo"] == list(range(30))
    finally:
        server_bus.close()
        delete_group_queue(bus_url, server_bus.name, f"{prefix}.#", group)


def test_group_queue_keeps_events_while_no_member_runs(bus: Bus, server_bus: Bus, bus_url: str) -> None:
    prefix, group = f"ev{uuid.uuid4().hex[:8]}", f"group-{uuid.uuid4().hex[:8]}"
    got: list[int] = []
    try:
        server_bus.subscribe(f"{prefix}.#", lambda et, p: None, group=group).stop()
        bus.notify(f"{prefix}.while.away", {"n": 1})
        server_bus.subscribe(f"{prefix}.#", lambda et, p: got.append(p["n"]), group=group)
        assert wait_until(lambda: got == [1])
    finally:
        server_bus.close()
        delete_group_queue(bus_url, server_bus.name, f"{prefix}.#", group)


def delete_group_queue(url: str, bus_name: str, pattern: str, group: str) -> None:
    """Group queues are durable by design; remove the test's one from the broker."""
    conn = connect(url)
    try:
        queue = topology.notify_queue(bus_name, pattern, group)(conn.channel())
        with broker_lock(url):
            queue.unbind_from(queue.exchange, pattern)
            queue.delete()
    finally:
        conn.release()


def test_failing_callback_does_not_stop_the_subscription(bus: Bus, server_bus: Bus) -> None:
    prefix = f"ev{uuid.uuid4().hex[:8]}"
    got: list[int] = []

    def callback(event_type: str, payload: dict[str, Any]) -> None:
        if payload["n"] == 0:
            raise RuntimeError("subscriber bug")
        got.append(payload["n"])

    server_bus.subscribe(f"{prefix}.*", callback)
    bus.notify(f"{prefix}.x", {"n": 0})
    bus.notify(f"{prefix}.x", {"n": 1})
    assert wait_until(lambda: got == [1])


# lifecycle


def test_accept_sees_each_request_before_it_runs_and_can_drop_it(bus: Bus, server_bus: Bus, topic: str) -> None:
    endpoint = Recorder()
    seen: list[tuple[str, dict[str, Any], int]] = []

    def accept(method: str, kwargs: dict[str, Any]) -> bool:
        seen.append((method, kwargs, len(endpoint.calls)))  # how many requests had run by then
        return kwargs.get("n") != 2

    server_bus.serve(topic, endpoint, workers=1, accept=accept)
    for n in (1, 2, 3):
        bus.cast(topic, "poke", n=n)
    assert bus.call(topic, "add", a=1, b=1) == 2  # one worker, one queue: the casts before it were handled
    assert [kwargs["n"] for name, kwargs in endpoint.calls if name == "poke"] == [1, 3]
    assert [(m, k) for m, k, _ in seen] == [
        ("poke", {"n": 1}),
        ("poke", {"n": 2}),
        ("poke", {"n": 3}),
        ("add", {"a": 1, "b": 1}),
    ]
    assert [ran for _, _, ran in seen] == [0, 1, 1, 2], "accept ran after its request, not before"


def test_stop_waits_for_in_flight_handlers(bus: Bus, server_bus: Bus, topic: str) -> None:
    started, release, finished = threading.Event(), threading.Event(), threading.Event()

    class Slow:
        def work(self) -> str:
            started.set()
            assert release.wait(WAIT)
            finished.set()
            return "done"

    server = server_bus.serve(topic, Slow())
    result: list[Any] = []
    caller = threading.Thread(target=lambda: result.append(bus.call(topic, "work")))
    caller.start()
    assert started.wait(WAIT)
    stopper = threading.Thread(target=server.stop)
    stopper.start()
    stopper.join(0.3)
    assert stopper.is_alive(), "stop() returned while a handler was still running"
    release.set()
    stopper.join(WAIT)
    assert not stopper.is_alive() and finished.is_set()
    caller.join(WAIT)
    assert result == ["done"]
    with pytest.raises(MessagingTimeout):  # no longer consuming
        bus.call(topic, "work", timeout=0.3)


def test_close_stops_every_thread(bus_url: str, topic: str) -> None:
    before = set(threading.enumerate())
    caller, server = Bus(bus_url), Bus(bus_url)
    server.serve(topic, Recorder(), server="h1", workers=3)
    server.subscribe(f"{topic}.#", lambda et, p: None)
    assert caller.call(topic, "add", a=1, b=2) == 3
    caller.close()
    server.close()
    leaked = [thread.name for thread in threading.enumerate() if thread not in before]
    assert leaked == []
    with pytest.raises(BusUnavailable):
        server.serve(topic, Recorder())
    with pytest.raises(BusUnavailable):
        caller.call(topic, "add", a=1, b=2)


def test_many_buses_in_one_process_talk_to_each_other(bus_url: str, topic: str) -> None:
    buses = [Bus(bus_url, default_timeout=WAIT) for _ in range(3)]
    try:
        buses[0].serve(topic, Recorder("zero"), server="zero")
        buses[1].serve(topic, Recorder("one"), server="one")
        assert buses[2].call(topic, "echo", server="zero", value=1)["server"] == "zero"
        assert buses[0].call(topic, "echo", server="one", value=2)["server"] == "one"
    finally:
        for b in buses:
            b.close()


def test_kombu_version_is_the_pinned_one() -> None:
    # memory:// behaviours this package works around (no TTL, no auto-delete) were checked on this version.
    assert kombu.__version__ == "5.7.0"
