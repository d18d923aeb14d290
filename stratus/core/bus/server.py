"""RPC server half: consume a topic and run the endpoint's methods in a worker pool."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import kombu

from stratus.core.bus import topology
from stratus.core.bus.connection import ConsumerThread, Publisher, delete_private_queues, is_memory
from stratus.core.bus.errors import RemoteError
from stratus.core.bus.rpc import error_reply

LOG = logging.getLogger(__name__)

# How many recent request ids each server remembers to drop duplicates (a request resent by its publisher
# after the broker's confirm was lost in a broker restart).
SEEN_IDS = 10000

Accept = Callable[[str, dict[str, Any]], bool]
"""``accept(method, kwargs)``: run before a request's ack (see RpcServer)."""

# A request that gets a worker within this long after receipt always runs (see _local_expiry).
EXPIRY_GRACE = 0.05


class NoSuchMethod(Exception):
    """Sent back (as a RemoteError of this type) when the endpoint has no such public method."""


class RpcServer(ConsumerThread):
    """Serves ``endpoint`` on ``topic``, ``topic.<server>`` (if server) and the topic's fanout.

    Requests are acknowledged when a worker is free to take them and then run in a pool of ``workers``
    threads; the prefetch limit keeps the rest on the broker for other servers of the topic. ``stop()`` stops
    consuming, then waits for the in-flight handlers.

    Delivery is at most once, as oslo.messaging does for RPC: a request is acked before it runs, so a broker
    restart or a lost connection never makes a server run it again (a request that was delivered but not yet
    acked, still waiting for a worker, goes back to the broker unexecuted and is delivered once more). A
    request the publisher resent because its confirm was lost carries the same ``message_id`` and is dropped
    here (the last SEEN_IDS ids are remembered). The price of at-most-once: a request acked by a server that
    dies before running it is lost; the caller of a ``call`` then gets MessagingTimeout.

    ``accept(method, kwargs)``, if given, runs in the consumer thread once a worker is free and before the
    ack: a server records there what it takes on (a crash before the ack leaves the request with the broker,
    which delivers it again). False drops the request; an exception is logged and the request runs anyway.
    """

    def __init__(
        self,
        url: str,
        bus_name: str,
        topic: str,
        endpoint: object,
        *,
        server: str | None,
        workers: int,
        publisher: Publisher,
        accept: Accept | None = None,
    ):
        super().__init__(url, name=f"bus-server-{topology.rpc_routing_key(topic, server)}")
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.topic = topic
        self.server = server
        self.endpoint = endpoint
        self._accept = accept
        self.prefetch_count = workers
        self._bus_name = bus_name
        self._publisher = publisher
        self._free = threading.Semaphore(workers)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"{self.name}-worker")
        self._fanout_queue = topology.fanout_queue(bus_name, topic, server)
        self._same_clock = is_memory(url)  # in-process: the caller's clock is ours, and nothing enforces TTLs
        self._seen: OrderedDict[str, None] = OrderedDict()

    def queues(self) -> list[kombu.Queue]:
        queues = [topology.rpc_queue(self._bus_name, self.topic)]
        if self.server:
            queues.append(topology.rpc_queue(self._bus_name, self.topic, self.server))
        queues.append(self._fanout_queue)
        return queues

    def handle(self, body: Any, message: kombu.Message) -> None:
        # Blocks this consumer thread while every worker is busy, so unacked requests stay with the broker.
        expires = _local_expiry(body, same_clock=self._same_clock)
        self._free.acquire()
        try:
            message_id = body.get("message_id")
            duplicate = isinstance(message_id, str) and message_id in self._seen
            if duplicate:
                LOG.warning("%s: dropping duplicate request %s", self.name, body.get("method"))
            run = not duplicate and self._accepted(body)
            message.ack()
            if not run:
                self._free.release()
                return
            self._remember(message_id)
            self._pool.submit(self._dispatch, body, dict(message.properties), expires)
        except BaseException:
            self._free.release()
            raise

    def _accepted(self, body: dict[str, Any]) -> bool:
        if self._accept is None:
            return True
        method = str(body.get("method", ""))
        try:
            return self._accept(method, dict(body.get("kwargs") or {}))
        except Exception:  # the handler meets the same trouble and reports it its own way
            LOG.exception("%s: accepting request %s failed; running it anyway", self.name, method)
            return True

    def _remember(self, message_id: object) -> None:
        """Remember an acked request's id (a resend of it is then dropped). Called in the consumer thread only."""
        if not isinstance(message_id, str):
            return
        self._seen[message_id] = None
        if len(self._seen) > SEEN_IDS:
            self._seen.popitem(last=False)

    def _dispatch(self, body: dict[str, Any], properties: dict[str, Any], expires: float | None) -> None:
        try:
            if expires is not None and time.monotonic() > expires:
                LOG.warning("%s: dropping expired request %s (caller gave up)", self.name, body.get("method"))
                return
            self._run(body, properties, expires)
        except Exception:  # a worker must survive anything a handler or the reply does
            LOG.exception("%s: error in RPC dispatch", self.name)
        finally:
            self._free.release()

    def _run(self, body: dict[str, Any], properties: dict[str, Any], expires: float | None) -> None:
        method_name = str(body.get("method", ""))
        reply: dict[str, Any]
        try:
            method = self._lookup(method_name)
            reply = {"result": method(**body.get("kwargs", {}))}
        except Exception as exc:  # every endpoint error goes back to the caller
            if properties.get("reply_to") is None:
                LOG.exception("%s: cast %s failed", self.name, method_name)
            reply = _error_reply(exc)
        reply_to = properties.get("reply_to")
        if reply_to is None:
            return
        correlation_id = properties.get("correlation_id")
        try:
            self._reply(reply, reply_to, correlation_id, expires, method_name)
        except TypeError as exc:  # the return value was not JSON-serialisable
            error = TypeError(f"{method_name} returned a value that is not JSON-serialisable: {exc}")
            self._reply(_error_reply(error), reply_to, correlation_id, expires, method_name)

    def _reply(
        self, reply: dict[str, Any], reply_to: str, correlation_id: str | None, expires: float | None, method: str
    ) -> None:
        # On RabbitMQ the reply is mandatory: while the caller's reply queue is missing (its Bus is reconnecting
        # after a broker restart) the broker returns it and we retry until the caller's deadline.
        self._publisher.publish(
            reply,
            exchange="",
            routing_key=reply_to,
            mandatory=not self._same_clock,
            deadline=expires,
            what=f"reply to {self.topic}.{method}",
            correlation_id=correlation_id,
            delivery_mode=topology.TRANSIENT,
        )

    def _lookup(self, method_name: str) -> Any:
        method = None if method_name.startswith("_") else getattr(self.endpoint, method_name, None)
        if method is None or not callable(method):
            raise NoSuchMethod(f"endpoint for topic {self.topic!r} has no public method {method_name!r}")
        return method

    def on_stop(self, channel: Any, queues: list[kombu.Queue]) -> None:
        self._pool.shutdown(wait=True)
        delete_private_queues(self.url, channel, queues)


def _local_expiry(body: dict[str, Any], *, same_clock: bool) -> float | None:
    """When (on this host's monotonic clock) a request just received stops being worth running.

    The caller sends its wall-clock ``expires_at`` and its ``timeout``. Until delivery the broker enforces the
    TTL itself, so at receipt at most ``timeout`` remains; clamping the wall-clock estimate into
    [EXPIRY_GRACE, timeout] means a skewed clock can only shorten or lengthen how long a request may wait
    here for a free worker, never drop one that gets a worker straight away. In one process (memory://)
    the clocks agree and no broker drops expired messages, so the estimate is used as is.
    """
    expires_at, timeout = body.get("expires_at"), body.get("timeout")
    if expires_at is None or timeout is None:
        return None
    remaining = expires_at - time.time()
    if not same_clock:
        remaining = min(max(remaining, EXPIRY_GRACE), timeout)
    return time.monotonic() + remaining


def _error_reply(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, RemoteError):  # a nested call failed: pass the original error through
        return {"error": {"type": exc.exc_type, "message": exc.message, "status": exc.status}}
    return error_reply(exc)
