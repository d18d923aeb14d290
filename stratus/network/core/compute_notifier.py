"""Tells compute when the ports of its servers go up or down, as Neutron's nova notifier does.

Registered as a ``DataPlane.status_listeners`` entry: a port of a server (``device_owner``
``compute:*`` with a ``device_id``) going ACTIVE becomes a ``network-vif-plugged`` event, going DOWN a
``network-vif-unplugged`` one, POSTed to compute's ``os-server-external-events`` with a service token.
The compute agent waits for ``network-vif-plugged`` before it starts a guest.

Sending happens on a worker thread fed by a queue, so the data plane's thread never blocks on
compute; events waiting together go in one request; failures are retried a few times with backoff,
then logged and dropped (never raised into the data plane).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import Any

from stratus.compute.client import ComputeClient, ComputeClientError
from stratus.core.config import Config, ServiceAuthConfig
from stratus.core.service_auth import ServiceAuthError, ServiceTokens

LOG = logging.getLogger(__name__)

EVENT_NAMES = {"network.port.up": "network-vif-plugged", "network.port.down": "network-vif-unplugged"}
ATTEMPTS = 4
BACKOFF = 0.5
"""Seconds before the first retry; doubled after each failure."""
MAX_BATCH = 50


def server_event(event: str, port_id: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The compute event for a port status change, or None if compute does not care about this port."""
    name = EVENT_NAMES.get(event)
    device_id = payload.get("device_id") or ""
    if name is None or not device_id or not str(payload.get("device_owner") or "").startswith("compute:"):
        return None
    return {"name": name, "server_uuid": device_id, "tag": port_id, "status": "completed"}


class ComputeNotifier:
    """A status listener (``notifier(event, port_id, payload)``) that forwards server events to compute."""

    def __init__(
        self,
        client_factory: Callable[[], ComputeClient],
        *,
        attempts: int = ATTEMPTS,
        backoff: float = BACKOFF,
    ):
        self._client_factory = client_factory
        self._attempts = attempts
        self._backoff = backoff
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.sent: int = 0
        """Events compute accepted a request for (for tests and diagnostics)."""

    @classmethod
    def from_config(cls, config: Config, compute_url: str | None, *, transport: Any = None) -> ComputeNotifier | None:
        """A notifier for ``[network] compute_url`` with the ``[service_auth]`` user; None if either is unset."""
        auth = config.section("service_auth", ServiceAuthConfig)
        if not compute_url or not auth.password:
            return None
        tokens = ServiceTokens(config.core.identity_url, auth)
        return cls(lambda: ComputeClient(compute_url, tokens.token, invalidate=tokens.invalidate, transport=transport))

    def __call__(self, event: str, port_id: str, payload: dict[str, Any]) -> None:
        try:
            body = server_event(event, port_id, payload)
            if body is None or self._stop.is_set():
                return
            self._ensure_started()
            self._queue.put(body)
        except Exception:  # a listener must never fail the data plane
            LOG.exception("could not queue the compute event for port %s", port_id)

    def _ensure_started(self) -> None:
        with self._start_lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="compute-notifier", daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop the worker; events still queued are dropped (compute's timeout covers them)."""
        self._stop.set()
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._stop.set()
                    break
                batch.append(item)
            self._send(batch)

    def _send(self, events: list[dict[str, Any]]) -> None:
        delay = self._backoff
        for attempt in range(1, self._attempts + 1):
            try:
                with self._client_factory() as client:
                    client.server_external_events(events)
                self.sent += len(events)
                return
            except ComputeClientError as exc:
                if exc.status == 404:  # none of these servers exists (any more): nothing to retry
                    LOG.info("compute knows none of the servers of %d event(s): %s", len(events), exc.message)
                    return
                error: Exception = exc
            except ServiceAuthError as exc:
                error = exc
            except Exception as exc:  # keep the worker alive whatever goes wrong
                error = exc
            if attempt == self._attempts:
                LOG.warning("dropping %d server event(s) after %d attempts: %s", len(events), attempt, error)
                return
            LOG.info("sending %d server event(s) failed (attempt %d): %s", len(events), attempt, error)
            if self._stop.wait(delay):  # backoff that a shutdown interrupts
                return
            delay *= 2
