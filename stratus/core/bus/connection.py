"""Broker connections: one factory, a thread-safe publisher pool, and a reconnecting consumer thread.

kombu ``Connection`` objects are not thread-safe, so every consumer thread owns its connection and
publishers borrow a (connection, producer) pair from a small pool for the duration of one publish.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Iterator
from typing import Any

import amqp.exceptions
import kombu
from kombu.exceptions import EncodeError, OperationalError

from stratus.core.bus import memory
from stratus.core.bus.errors import BusUnavailable

LOG = logging.getLogger(__name__)

# Producer retry on a broker blip: waits 0, 0.5, 1, 1.5, 2, 2 s (about 7 s in all), then BusUnavailable.
RETRY_POLICY: dict[str, Any] = {"max_retries": 6, "interval_start": 0, "interval_step": 0.5, "interval_max": 2}
CONNECT_TIMEOUT = 5.0
# How long serve()/subscribe()/the first call() wait for their consumer to be ready before BusUnavailable.
READY_TIMEOUT = 10.0
# How long one publish waits for RabbitMQ's confirm before the attempt counts as failed.
CONFIRM_TIMEOUT = 5.0
# Consumer reconnect backoff bounds (seconds).
RECONNECT_MIN, RECONNECT_MAX = 0.2, 5.0

# What a failed publish attempt raises: kombu's wrapped errors, socket errors and AMQP errors (a connection
# closed by a stopping broker, an unroutable mandatory message, a nack).
PUBLISH_ERRORS = (OperationalError, OSError, amqp.exceptions.AMQPError)

# memory:// keeps exchanges and bindings in process-global dicts that kombu mutates without locks
# (check-then-set in exchange_declare and in the queue table); we serialise declarations and publishes on it.
_MEMORY_LOCK = threading.Lock()


def is_memory(url: str) -> bool:
    return url.split("://", 1)[0] == "memory"


def connect(url: str) -> kombu.Connection:
    """Return a new, not yet connected, kombu Connection for ``url``."""
    if is_memory(url):
        return kombu.Connection(url, transport=memory.Transport)  # woken by publishes, see memory.py
    # No AMQP heartbeats (idle pooled publishers would be dropped by the broker); py-amqp's TCP keepalive and
    # TCP_USER_TIMEOUT defaults detect a dead peer instead.
    # Publisher confirms: see Publisher.
    return kombu.Connection(
        url, connect_timeout=CONNECT_TIMEOUT, heartbeat=0, transport_options={"confirm_publish": True}
    )


def broker_lock(url: str) -> contextlib.AbstractContextManager[Any]:
    """Lock to hold around declarations and publishes (only memory:// needs one)."""
    return _MEMORY_LOCK if is_memory(url) else contextlib.nullcontext()


def safe_release(conn: kombu.Connection) -> None:
    try:
        conn.release()
    except Exception:  # the connection is being thrown away; its state no longer matters
        LOG.debug("error closing bus connection", exc_info=True)


class Publisher:
    """Thread-safe publishing through a pool of at most ``limit`` connections, created on demand.

    On RabbitMQ every publish waits for the broker's confirm, so a message written to a connection that the
    broker already dropped (it restarted) is noticed and sent again instead of being lost silently. A message
    resent that way may reach the broker twice (its confirm was lost); RPC servers drop such duplicates by
    message id (see ``server.RpcServer``).
    """

    def __init__(self, url: str, limit: int = 8):
        self._url = url
        self._slots = threading.BoundedSemaphore(limit)
        self._idle: queue.LifoQueue[kombu.Producer] = queue.LifoQueue()
        self._closed = threading.Event()

    @contextlib.contextmanager
    def _producer(self) -> Iterator[kombu.Producer]:
        with self._slots:
            if self._closed.is_set():
                raise BusUnavailable("message bus is closed")
            try:
                producer = self._idle.get_nowait()
            except queue.Empty:
                conn = connect(self._url)
                try:
                    conn.connect()  # one attempt: publish() owns the retrying
                except BaseException:
                    safe_release(conn)
                    raise
                producer = kombu.Producer(conn, serializer="json")
            try:
                yield producer
            except BaseException:
                safe_release(producer.connection)  # state unknown after an error: do not reuse
                raise
            if self._closed.is_set():
                safe_release(producer.connection)
            else:
                self._idle.put(producer)

    def publish(
        self,
        body: Any,
        *,
        exchange: kombu.Exchange | str,
        routing_key: str,
        declare: list[kombu.Exchange | kombu.Queue] | None = None,
        mandatory: bool = False,
        deadline: float | None = None,
        what: str = "",
        **properties: Any,
    ) -> None:
        """Publish ``body`` as JSON, retrying with backoff; BusUnavailable when the broker stays away.

        Retries follow RETRY_POLICY (about 7 s in all) and stop earlier at ``deadline`` (``time.monotonic``).
        ``declare`` lists entities to declare first (the exchange, when it has a name, always is). With
        ``mandatory``, a message the broker cannot route counts as a failed attempt and is retried too.
        ``what`` names the message in errors and logs (e.g. ``cast compute.host1.reboot``).
        Raises TypeError when ``body`` is not JSON-serialisable.
        """
        entities: list[Any] = [exchange] if isinstance(exchange, kombu.Exchange) and exchange.name else []
        entities += declare or []
        what = what or f"message to {routing_key!r}"
        delay = float(RETRY_POLICY["interval_start"])
        for attempt in range(int(RETRY_POLICY["max_retries"]) + 1):
            try:
                self._publish_once(body, exchange, routing_key, entities, mandatory, deadline, properties)
                if attempt:
                    LOG.info("bus: published %s after %d retries", what, attempt)
                return
            except EncodeError as exc:
                raise TypeError(f"bus message is not JSON-serialisable: {exc}") from exc
            except BusUnavailable:
                raise
            except PUBLISH_ERRORS as exc:
                error: BaseException = exc
            remaining = None if deadline is None else deadline - time.monotonic()
            if attempt == int(RETRY_POLICY["max_retries"]) or (remaining is not None and remaining <= 0):
                break
            wait = delay if remaining is None else min(delay, remaining)
            LOG.warning("bus: publishing %s failed (%s); retrying in %.1f s", what, error, wait)
            if self._closed.wait(wait):
                raise BusUnavailable(f"message bus closed while publishing {what}")
            delay = min(delay + float(RETRY_POLICY["interval_step"]), float(RETRY_POLICY["interval_max"]))
        LOG.error("bus: giving up publishing %s: %s", what, error)
        raise BusUnavailable(f"message bus {_safe_url(self._url)} unavailable, {what} not sent: {error}") from error

    def _publish_once(
        self,
        body: Any,
        exchange: kombu.Exchange | str,
        routing_key: str,
        entities: list[Any],
        mandatory: bool,
        deadline: float | None,
        properties: dict[str, Any],
    ) -> None:
        confirm_timeout = (
            CONFIRM_TIMEOUT if deadline is None else max(0.1, min(CONFIRM_TIMEOUT, deadline - time.monotonic()))
        )
        with self._producer() as producer, broker_lock(self._url):
            extra = {} if is_memory(self._url) else {"confirm_timeout": confirm_timeout}
            producer.publish(
                body,
                exchange=exchange,
                routing_key=routing_key,
                declare=entities,
                mandatory=mandatory,
                retry=False,
                **extra,
                **properties,
            )

    def close(self) -> None:
        self._closed.set()
        while True:
            try:
                safe_release(self._idle.get_nowait().connection)
            except queue.Empty:
                return


def _safe_url(url: str) -> str:
    """The URL without its password, for error messages."""
    return kombu.Connection(url).as_uri() if not is_memory(url) else url


class ConsumerThread:
    """Runs a daemon thread that owns one connection, consumes ``queues()`` and reconnects after errors.

    Subclasses implement ``queues`` (fresh kombu Queue objects for each (re)connection) and ``handle``
    (called in this thread for each message; it must ack). ``stop`` is graceful: consuming stops,
    ``on_stop`` runs with the connection still open, then the connection is closed.
    """

    prefetch_count: int | None = None
    idle_timeout = 0.1  # how often the loop checks for stop() while no message arrives

    def __init__(self, url: str, name: str):
        self.name = name
        self.url = url
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._stopping = threading.Event()
        self._ready = threading.Event()
        self.last_error: BaseException | None = None
        self.connection: kombu.Connection | None = None  # the current one, for diagnostics and tests

    def queues(self) -> list[kombu.Queue]:
        raise NotImplementedError

    def handle(self, body: Any, message: kombu.Message) -> None:
        raise NotImplementedError

    def on_stop(self, channel: Any, queues: list[kombu.Queue]) -> None:
        """Hook run once at stop, after consuming stopped, while the connection is still open."""

    def start_and_wait(self, timeout: float | None = None) -> None:
        """Start the thread and return once it consumes; BusUnavailable (and stopped) if it cannot."""
        self._thread.start()
        if not self._ready.wait(READY_TIMEOUT if timeout is None else timeout):
            self.stop()
            raise BusUnavailable(f"message bus {_safe_url(self.url)} unavailable: {self.last_error}")

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s until the thread consumes (again, after a reconnect); False if it does not."""
        return self._ready.wait(timeout)

    @property
    def stopped(self) -> bool:
        return self._stopping.is_set() and not self._thread.is_alive()

    def request_stop(self) -> None:
        """Ask the thread to stop without waiting (``stop`` waits)."""
        self._stopping.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop consuming, finish what is in hand, close the connection; waits up to ``timeout`` (None: no limit)."""
        self._stopping.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _loop(self) -> None:
        delay = RECONNECT_MIN
        stopped_cleanly = False
        while not stopped_cleanly:
            conn = self.connection = connect(self.url)
            try:
                stopped_cleanly = self._consume(conn)
                delay = RECONNECT_MIN
            except Exception as exc:  # a consumer must outlive broker and channel errors
                self.last_error = exc
                self._ready.clear()
                LOG.warning("%s: bus connection error, reconnecting in %.1f s: %s", self.name, delay, exc)
                if self._stopping.wait(delay):
                    self._final_stop(None, [])
                    stopped_cleanly = True
                delay = min(delay * 2, RECONNECT_MAX)
            finally:
                safe_release(conn)

    def _consume(self, conn: kombu.Connection) -> bool:
        conn.connect()
        channel = conn.channel()
        queues = self.queues()
        with broker_lock(self.url):
            consumer = kombu.Consumer(
                channel,
                queues=queues,
                callbacks=[self._on_message],
                accept=["json"],
                prefetch_count=self.prefetch_count,
            )
            consumer.consume()
        self._ready.set()
        while not self._stopping.is_set():
            try:
                conn.drain_events(timeout=self.idle_timeout)
            except TimeoutError:
                pass
        consumer.cancel()
        self._final_stop(channel, queues)
        return True

    def _final_stop(self, channel: Any, queues: list[kombu.Queue]) -> None:
        try:
            self.on_stop(channel, queues)
        except Exception:  # stop must finish; the broker cleans up after us on disconnect
            LOG.warning("%s: error while stopping", self.name, exc_info=True)

    def _on_message(self, body: Any, message: kombu.Message) -> None:
        try:
            self.handle(body, message)
        except Exception:  # one bad message must not take the consumer down
            LOG.exception("%s: error handling bus message", self.name)
            if not message.acknowledged:
                message.ack()


def delete_private_queues(url: str, channel: Any, queues: list[kombu.Queue]) -> None:
    """Unbind and delete exclusive queues: memory:// neither auto-deletes them nor drops their bindings."""
    if channel is None:
        return
    with broker_lock(url):
        for q in queues:
            if not q.exclusive:
                continue
            bound = q(channel)
            if q.exchange is not None and q.exchange.name:
                bound.unbind_from(q.exchange, q.routing_key)
            bound.delete()
