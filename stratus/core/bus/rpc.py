"""RPC client half: the per-Bus reply queue and the waiting callers.

A ``call`` registers a future under a fresh correlation id, publishes the request with ``reply_to`` set to
this Bus's reply queue, and waits on the future. One ``ReplyListener`` thread consumes the reply queue and
completes the futures, so any number of threads can ``call`` through one Bus at once.

Wire format (JSON): a request body is ``{"method": str, "kwargs": dict, "expires_at": float | None,
"timeout": float | None}`` (a call's wall-clock deadline and timeout, after which the server drops the request
unexecuted; None for casts; see ``server._local_expiry`` for clock skew); a reply body is
``{"result": Any}`` or ``{"error": {"type": str, "message": str, "status": int | None}}``.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future
from typing import Any

import kombu

from stratus.core.bus import topology
from stratus.core.bus.connection import ConsumerThread, delete_private_queues
from stratus.core.bus.errors import BusUnavailable, RemoteError

LOG = logging.getLogger(__name__)


class ReplyListener(ConsumerThread):
    """Consumes this Bus's exclusive reply queue and hands each reply to the caller waiting for it."""

    def __init__(self, url: str, name: str):
        super().__init__(url, name=f"bus-replies-{name}")
        self._queue = topology.reply_queue(name)
        self._waiters: dict[str, Future[dict[str, Any]]] = {}
        self._lock = threading.Lock()

    @property
    def queue_name(self) -> str:
        return self._queue.name

    def queues(self) -> list[kombu.Queue]:
        # The same name after a reconnect: callers already published with it as reply_to.
        return [self._queue]

    def expect(self, correlation_id: str) -> Future[dict[str, Any]]:
        future: Future[dict[str, Any]] = Future()
        with self._lock:
            self._waiters[correlation_id] = future
        return future

    def forget(self, correlation_id: str) -> None:
        with self._lock:
            self._waiters.pop(correlation_id, None)

    def handle(self, body: Any, message: kombu.Message) -> None:
        message.ack()
        correlation_id = message.properties.get("correlation_id")
        with self._lock:
            future = self._waiters.pop(correlation_id, None)
        if future is None:
            LOG.debug("dropping reply %s: its caller gave up", correlation_id)
            return
        future.set_result(body)

    def on_stop(self, channel: Any, queues: list[kombu.Queue]) -> None:
        with self._lock:
            waiters, self._waiters = self._waiters, {}
        for future in waiters.values():
            future.set_exception(BusUnavailable("message bus closed while waiting for a reply"))
        delete_private_queues(self.url, channel, queues)


def unpack_reply(body: dict[str, Any]) -> Any:
    """Return the result in a reply body, or raise the RemoteError it carries."""
    error = body.get("error")
    if error is not None:
        raise RemoteError(str(error.get("type")), str(error.get("message", "")), error.get("status"))
    return body.get("result")


def error_reply(exc: BaseException) -> dict[str, Any]:
    status = getattr(exc, "status", None)
    if not isinstance(status, int) or isinstance(status, bool):
        status = None
    message = getattr(exc, "message", None)
    if not isinstance(message, str):
        message = str(exc)
    return {"error": {"type": type(exc).__name__, "message": message, "status": status}}
