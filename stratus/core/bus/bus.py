"""The Bus facade: RPC call/cast/fanout, serving endpoints, notifications.

Arguments and results travel as JSON (kombu's ``json`` serializer, which also round-trips ``datetime``,
``UUID`` and ``Decimal``): ``kwargs``, return values and notification payloads must be JSON-serialisable,
else the sender gets a ``TypeError`` (a server whose method returns something unserialisable sends back a
``RemoteError`` of type ``TypeError``).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from stratus.core.bus import topology
from stratus.core.bus.connection import ConsumerThread, Publisher, is_memory
from stratus.core.bus.errors import BusUnavailable, MessagingTimeout
from stratus.core.bus.notify import Subscription
from stratus.core.bus.rpc import ReplyListener, unpack_reply
from stratus.core.bus.server import Accept, RpcServer


class Bus:
    """One process's handle on the message bus. Thread-safe: share one Bus between threads.

    ``url`` is ``memory://`` (in-process; every Bus in the process sees the same queues) or an
    ``amqp://user:pass@host:5672/vhost`` RabbitMQ URL. ``name`` prefixes exchange and reply queue names.
    """

    def __init__(self, url: str = "memory://", *, default_timeout: float = 30.0, name: str = "stratus"):
        self.url = url
        self.name = name
        self.default_timeout = default_timeout
        self._publisher = Publisher(url)
        self._lock = threading.Lock()
        self._replies: ReplyListener | None = None
        self._children: list[ConsumerThread] = []
        self._closed = False

    # RPC client

    def call(
        self, topic: str, method: str, *, server: str | None = None, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        """Call ``method(**kwargs)`` on one server of ``topic`` (or on ``server``) and return its result.

        Raises MessagingTimeout when no reply comes within ``timeout`` (default ``default_timeout``) seconds,
        including when nobody consumes the topic; RemoteError when the remote method raised; BusUnavailable
        (naming the topic) when the broker stays unreachable until the deadline. A request still queued when
        the caller gives up is not executed. Across a broker restart a call either completes (its request is
        resent once the broker is back, and the server's queue was declared by the caller too) or raises one of
        these within ``timeout``: it never hangs.
        """
        timeout = self.default_timeout if timeout is None else timeout
        key = topology.rpc_routing_key(topic, server)
        replies = self._reply_listener()  # the first call waits here for the reply queue, outside the timeout
        expires_at = time.time() + timeout  # before the deadline: the server never runs what we gave up on
        deadline = time.monotonic() + timeout
        if not replies.wait_ready(timeout):  # reconnecting after a broker restart: the reply queue is not back
            raise BusUnavailable(
                f"message bus unavailable: no reply queue for call {key}.{method}: {replies.last_error}"
            )
        correlation_id = uuid.uuid4().hex
        future = replies.expect(correlation_id)
        try:
            self._publisher.publish(
                self._request(method, kwargs, expires_at=expires_at, timeout=timeout),
                exchange=topology.rpc_exchange(self.name),
                routing_key=key,
                declare=self._rpc_queues(topic, server),
                deadline=deadline,
                what=f"call {key}.{method}",
                correlation_id=correlation_id,
                reply_to=replies.queue_name,
                expiration=max(0.001, deadline - time.monotonic()),
                delivery_mode=topology.TRANSIENT,
            )
            body = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            raise MessagingTimeout(key, method, timeout) from None
        finally:
            replies.forget(correlation_id)
        return unpack_reply(body)

    def cast(self, topic: str, method: str, *, server: str | None = None, **kwargs: Any) -> None:
        """Ask one server of ``topic`` (or ``server``) to run ``method(**kwargs)``; no reply, no wait.

        On RabbitMQ the topic's queue is declared by the sender too, so a cast waits there for a server that
        is (re)starting, also across a broker restart (the queue is durable and the cast persistent; RabbitMQ
        drops the queue after RPC_QUEUE_EXPIRES_MS unused); on memory:// a cast to
        a topic nobody serves is dropped. While the broker is down the cast is retried with backoff, then
        BusUnavailable (naming the topic) is raised and logged: a cast is never lost silently. Each cast is
        executed at most once (see ``server.RpcServer``).
        """
        key = topology.rpc_routing_key(topic, server)
        self._publisher.publish(
            self._request(method, kwargs),
            exchange=topology.rpc_exchange(self.name),
            routing_key=key,
            declare=self._rpc_queues(topic, server),
            what=f"cast {key}.{method}",
            delivery_mode=topology.PERSISTENT,
        )

    def fanout(self, topic: str, method: str, **kwargs: Any) -> None:
        """Cast ``method(**kwargs)`` to every server currently serving ``topic``."""
        self._publisher.publish(
            self._request(method, kwargs),
            exchange=topology.fanout_exchange(self.name, topic),
            routing_key=topic,
            what=f"fanout {topic}.{method}",
            delivery_mode=topology.TRANSIENT,
        )

    @staticmethod
    def _request(
        method: str, kwargs: dict[str, Any], *, expires_at: float | None = None, timeout: float | None = None
    ) -> dict[str, Any]:
        # message_id: a request resent after a lost publisher confirm is recognised and run once.
        return {
            "method": method,
            "kwargs": kwargs,
            "expires_at": expires_at,
            "timeout": timeout,
            "message_id": uuid.uuid4().hex,
        }

    def _rpc_queues(self, topic: str, server: str | None) -> list[Any]:
        """The queue to declare before sending to ``topic``: none on memory:// (nothing would expire it)."""
        if is_memory(self.url):
            return []
        return [topology.rpc_queue(self.name, topic, server)]

    # RPC server

    def serve(
        self,
        topic: str,
        endpoint: object,
        *,
        server: str | None = None,
        workers: int = 4,
        accept: Accept | None = None,
    ) -> RpcServer:
        """Serve ``endpoint``'s public methods on ``topic``, ``topic.<server>`` and the topic's fanout.

        Returns once consuming. Each request runs ``endpoint.<method>(**kwargs)`` in one of ``workers``
        threads; methods whose name starts with ``_`` cannot be called. ``accept``: see ``RpcServer``.
        """
        rpc_server = RpcServer(
            self.url,
            self.name,
            topic,
            endpoint,
            server=server,
            workers=workers,
            publisher=self._publisher,
            accept=accept,
        )
        self._start(rpc_server)
        return rpc_server

    # Notifications

    def notify(self, event_type: str, payload: dict[str, Any], *, publisher: str = "") -> None:
        """Publish event ``event_type`` (dotted, e.g. ``identity.token.revoked``) with ``payload``."""
        self._publisher.publish(
            {
                "event_type": event_type,
                "payload": payload,
                "publisher": publisher,
                "timestamp": time.time(),
                "message_id": uuid.uuid4().hex,
            },
            exchange=topology.notify_exchange(self.name),
            routing_key=event_type,
            what=f"notification {event_type}",
            delivery_mode=topology.PERSISTENT,
        )

    def subscribe(
        self, pattern: str, callback: Callable[[str, dict[str, Any]], None], *, group: str | None = None
    ) -> Subscription:
        """Call ``callback(event_type, payload)`` for events matching the AMQP topic ``pattern``.

        ``*`` matches one dotted word and ``#`` any number (``identity.#``, ``compute.instance.*``).
        Returns once subscribed; see Subscription for what ``group`` does.
        """
        subscription = Subscription(self.url, self.name, pattern, callback, group=group)
        self._start(subscription)
        return subscription

    # Lifecycle

    def close(self) -> None:
        """Stop every server and subscription started through this Bus and release its connections."""
        with self._lock:
            self._closed = True
            children, self._children = self._children, []
            replies, self._replies = self._replies, None
        threads = [*children, replies] if replies is not None else children
        for thread in threads:  # all at once: each takes up to its idle timeout to notice
            thread.request_stop()
        for thread in threads:
            thread.stop()
        self._publisher.close()

    def __enter__(self) -> Bus:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _start(self, thread: ConsumerThread) -> None:
        with self._lock:
            if self._closed:
                raise BusUnavailable("message bus is closed")
            self._children = [child for child in self._children if not child.stopped]
            self._children.append(thread)
        thread.start_and_wait()

    def _reply_listener(self) -> ReplyListener:
        with self._lock:
            if self._closed:
                raise BusUnavailable("message bus is closed")
            if self._replies is None:
                listener = ReplyListener(self.url, self.name)
                listener.start_and_wait()
                self._replies = listener
            return self._replies
