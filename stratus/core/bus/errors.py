"""Errors raised by the message bus."""

from __future__ import annotations

from stratus.core.exceptions import ServiceUnavailable, StratusError


class MessagingTimeout(StratusError):
    """No reply to an RPC ``call`` within its timeout; the message names the topic and method."""

    status, title = 504, "Gateway Timeout"

    def __init__(self, topic: str, method: str, timeout: float):
        super().__init__(f"No reply from topic {topic!r} for method {method!r} within {timeout:g} s")
        self.topic = topic
        self.method = method
        self.timeout = timeout


class RemoteError(StratusError):
    """The remote endpoint raised while handling a ``call``.

    ``exc_type`` is the remote exception's class name and ``message`` its text. ``status`` is the remote
    exception's integer ``status`` attribute (e.g. a ``StratusError`` subclass such as ``NotFound`` gives 404),
    or None when it had none, so an API layer can decide how to render it.
    """

    def __init__(self, exc_type: str, message: str, status: int | None = None):
        super().__init__(f"{exc_type}: {message}" if message else exc_type)
        self.exc_type = exc_type
        self.message = message
        self.status = status  # type: ignore[assignment]  # instance value may be None, unlike StratusError.status


class BusUnavailable(ServiceUnavailable):
    """The broker could not be reached, even after retrying with backoff."""
