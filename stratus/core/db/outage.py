"""Riding out a database restart in background work (the conductor), where there is no client to retry.

An API request that meets an outage answers 503 with Retry-After and the client tries again. Work done for
a message off the bus has nobody to answer to: it retries here instead, for about as long as a restart of
the server takes. Only wrap work that a failed attempt leaves undone, which is one transaction.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from stratus.core.exceptions import ServiceUnavailable

LOG = logging.getLogger(__name__)

T = TypeVar("T")

OUTAGE_RETRY_SECONDS = 60.0
_FIRST_DELAY, _MAX_DELAY = 0.25, 4.0


class DatabaseUnavailable(ServiceUnavailable):
    """The database server is unreachable or restarting (see ``engine.is_outage``)."""


def retry_on_outage(fn: Callable[[], T], *, what: str, within: float = OUTAGE_RETRY_SECONDS) -> T:
    """``fn()``, called again with backoff while it raises DatabaseUnavailable, for up to ``within`` seconds."""
    deadline = time.monotonic() + within
    delay = _FIRST_DELAY
    while True:
        try:
            return fn()
        except DatabaseUnavailable:
            if time.monotonic() + delay > deadline:
                LOG.error("%s: the database stayed unavailable for %.0f s; giving up", what, within)
                raise
            LOG.warning("%s: the database is unavailable; retrying in %.2f s", what, delay)
            time.sleep(delay)  # backoff while the server restarts, bounded by the deadline
            delay = min(delay * 2, _MAX_DELAY)
