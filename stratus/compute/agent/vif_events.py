"""Waiting for the network service's server events (``network-vif-plugged``), as Nova's ``InstanceEvents``.

A build registers what it expects with ``expect(instance_uuid, [(name, tag), ...])`` *before* it
plugs the VIFs, then ``waiter.wait(deadline)``: an event that arrives between the two is kept, so a
fast network service is never missed. Events nobody waits for are dropped (logged), as in Nova.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import Any

LOG = logging.getLogger(__name__)

EventKey = tuple[str, str]
"""(event name, tag): e.g. ("network-vif-plugged", port_id)."""


class EventTimeout(Exception):
    """Some expected events did not come before the deadline; ``missing`` lists them."""

    def __init__(self, missing: list[EventKey]):
        super().__init__(f"timed out waiting for {missing}")
        self.missing = missing


class EventWaiter:
    """The events one operation on one instance waits for."""

    def __init__(self, registry: VifEventRegistry, instance_uuid: str, keys: Iterable[EventKey]):
        self._registry = registry
        self.instance_uuid = instance_uuid
        self._pending: set[EventKey] = set(keys)
        self.received: dict[EventKey, str] = {}
        self._cond = threading.Condition()

    def _deliver(self, key: EventKey, status: str) -> bool:
        with self._cond:
            if key not in self._pending:
                return False
            self._pending.discard(key)
            self.received[key] = status
            self._cond.notify_all()
            return True

    def wait(self, deadline: float) -> dict[EventKey, str]:
        """Block until every expected event came (returns name/tag -> status) or ``deadline`` (monotonic).

        Raises EventTimeout naming the missing events. Always unregisters the waiter.
        """
        try:
            with self._cond:
                while self._pending:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        raise EventTimeout(sorted(self._pending))
                    self._cond.wait(left)
                return dict(self.received)
        finally:
            self.cancel()

    def cancel(self) -> None:
        """Stop expecting these events (idempotent)."""
        self._registry._forget(self)


class VifEventRegistry:
    """Every waiter of one agent; ``deliver`` is called from the bus thread that receives events."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[str, list[EventWaiter]] = {}

    def expect(self, instance_uuid: str, keys: Iterable[EventKey]) -> EventWaiter:
        waiter = EventWaiter(self, instance_uuid, keys)
        with self._lock:
            self._waiters.setdefault(instance_uuid, []).append(waiter)
        return waiter

    def deliver(self, instance_uuid: str, name: str, tag: str | None, status: str = "completed") -> bool:
        """Hand an event to whoever waits for it; False (and a log line) if nobody does."""
        with self._lock:
            waiters = list(self._waiters.get(instance_uuid, ()))
        key = (name, tag or "")
        for waiter in waiters:
            if waiter._deliver(key, status):
                return True
        LOG.debug("no one waits for %s of %s (tag %s); dropped", name, instance_uuid, tag)
        return False

    def deliver_all(self, events: Iterable[dict[str, Any]]) -> int:
        """Deliver events as ``os-server-external-events`` has them; returns how many were awaited."""
        return sum(
            self.deliver(e["server_uuid"], e["name"], e.get("tag"), e.get("status", "completed")) for e in events
        )

    def waiting(self, instance_uuid: str) -> bool:
        with self._lock:
            return bool(self._waiters.get(instance_uuid))

    def _forget(self, waiter: EventWaiter) -> None:
        with self._lock:
            waiters = self._waiters.get(waiter.instance_uuid)
            if waiters and waiter in waiters:
                waiters.remove(waiter)
                if not waiters:
                    del self._waiters[waiter.instance_uuid]
