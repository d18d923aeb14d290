"""libvirt's event loop in a thread, and domain lifecycle events handed to a callback off that thread.

``virEventRegisterDefaultImpl`` must run before the first connection is opened and only once per
process; ``start_event_loop`` does both idempotently. Callbacks run on the loop thread, which must
never block on libvirt, so ``LifecycleDispatcher`` queues each event's domain uuid and a worker
thread hands it on.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

import libvirt

LOG = logging.getLogger(__name__)

_loop_started = False
_loop_guard = threading.Lock()


def start_event_loop() -> None:
    """Register libvirt's default event implementation and run it in a daemon thread (once per process)."""
    global _loop_started
    with _loop_guard:
        if _loop_started:
            return
        libvirt.registerErrorHandler(_quiet, None)  # errors arrive as exceptions; do not also print them
        libvirt.virEventRegisterDefaultImpl()
        thread = threading.Thread(target=_run_loop, name="libvirt-event-loop", daemon=True)
        thread.start()
        _loop_started = True


def _quiet(_ctx: Any, _err: Any) -> None:
    pass


def _run_loop() -> None:
    while True:
        try:
            libvirt.virEventRunDefaultImpl()
        except Exception:  # keep serving events; one bad callback must not stop them all
            LOG.exception("libvirt event loop iteration failed")


class LifecycleDispatcher:
    """Registers for lifecycle events on a connection; calls ``handler(uuid)`` on its own thread."""

    def __init__(self, handler: Callable[[str], None], name: str = "libvirt-lifecycle"):
        self._handler = handler
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._callback_id: int | None = None
        self._conn: Any = None
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def register(self, conn: Any) -> None:
        """Listen on ``conn`` (a new connection after a reconnect replaces the old one)."""
        self.unregister()
        self._conn = conn
        self._callback_id = conn.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, self._on_event, None
        )

    def unregister(self) -> None:
        if self._conn is not None and self._callback_id is not None:
            try:
                self._conn.domainEventDeregisterAny(self._callback_id)
            except libvirt.libvirtError:
                pass  # the connection is already gone
        self._conn, self._callback_id = None, None

    def close(self) -> None:
        self.unregister()
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _on_event(self, conn: Any, dom: Any, event: int, detail: int, opaque: Any) -> None:
        self._queue.put(dom.UUIDString())

    def _work(self) -> None:
        while (uuid := self._queue.get()) is not None:
            try:
                self._handler(uuid)
            except Exception:
                LOG.exception("handling a lifecycle event of %s failed", uuid)
