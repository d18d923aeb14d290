"""The builds this agent process has taken on: what tells a build cut short from one still queued.

A build request is acknowledged to the broker only after :meth:`BuildLedger.accept` recorded it here and the
conductor marked it 'spawning' (the RPC server calls ``accept`` before its ack). So after a crash of the
agent, a 'spawning' build that the new process has not taken on was cut short, and a build still in
'scheduling' is still in this host's queue (or back in it: the broker redelivers what was never acked).
There is no moment in which a build is acked but looks queued, so none is left in BUILD by a crash.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from stratus.compute.agent.reporting import reliably
from stratus.compute.rpcapi import ConductorAPI

LOG = logging.getLogger(__name__)

BUILD_METHOD = "build_and_run_instance"


class BuildLedger:
    def __init__(self, host: str, conductor: ConductorAPI):
        self._host = host
        self._conductor = conductor
        self._taken: set[str] = set()
        self._lock = threading.Lock()

    def accept(self, method: str, kwargs: dict[str, Any]) -> bool:
        """Before the ack of a request: take on a build ('spawning'); False drops it (no longer ours to run).

        Any other request is accepted as it is.
        """
        if method != BUILD_METHOD:
            return True
        uuid = str(kwargs["instance"]["uuid"])
        return self.take(uuid)

    def take(self, uuid: str) -> bool:
        """Record the build (before the conductor hears of it, so a concurrent recovery never misses it)."""
        with self._lock:
            self._taken.add(uuid)
        what = f"{self._host}: reporting the start of the build of {uuid}"
        try:
            started = reliably(lambda: self._conductor.build_started(self._host, uuid), what=what)
        except Exception:
            self.finished(uuid)
            raise
        if not started:
            LOG.info("%s: the build of %s is no longer this host's (deleted, settled or moved)", self._host, uuid)
            self.finished(uuid)
        return started

    def taken(self, uuid: str) -> bool:
        with self._lock:
            return uuid in self._taken

    def finished(self, uuid: str) -> None:
        with self._lock:
            self._taken.discard(uuid)

    def current(self) -> set[str]:
        """The builds this process has taken on and not finished."""
        with self._lock:
            return set(self._taken)
