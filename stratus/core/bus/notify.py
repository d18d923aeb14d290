"""Notifications: events published on a topic exchange, received by pattern subscribers."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import kombu

from stratus.core.bus import topology
from stratus.core.bus.connection import ConsumerThread, delete_private_queues

LOG = logging.getLogger(__name__)

Callback = Callable[[str, dict[str, Any]], None]


class Subscription(ConsumerThread):
    """Calls ``callback(event_type, payload)`` for each event matching ``pattern``, in this thread, in order.

    Without a group the subscription has its own exclusive queue and sees every event published while it
    runs. With a group, all subscriptions of the group share one durable queue, which keeps events while
    none of them runs, and each event goes to one of them. A callback that raises is logged and the event
    is dropped (acked), so one bad event cannot block the queue.
    """

    def __init__(self, url: str, bus_name: str, pattern: str, callback: Callback, *, group: str | None):
        super().__init__(url, name=f"bus-subscription-{group or pattern}")
        self.pattern = pattern
        self.group = group
        self._callback = callback
        self._queue = topology.notify_queue(bus_name, pattern, group)

    def queues(self) -> list[kombu.Queue]:
        return [self._queue]

    def handle(self, body: Any, message: kombu.Message) -> None:
        try:
            self._callback(str(body["event_type"]), body.get("payload") or {})
        except Exception:  # see the class docstring
            LOG.exception("%s: subscriber callback failed for %s", self.name, body.get("event_type"))
        message.ack()

    def on_stop(self, channel: Any, queues: list[kombu.Queue]) -> None:
        delete_private_queues(self.url, channel, queues)
