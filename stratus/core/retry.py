"""Call again with exponential backoff while a failure is one that passes (a restart), up to a deadline.

The one loop behind ``core.db.retry_on_outage`` (a database restart) and the compute agent's
``reliably`` (a broker or database restart on the way to the conductor).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def with_backoff(
    fn: Callable[[], T],
    *,
    retryable: Callable[[Exception], bool],
    within: float,
    first_delay: float,
    max_delay: float,
    what: str,
    log: logging.Logger,
) -> T:
    """``fn()``, called again while it raises an exception ``retryable`` accepts, for up to ``within`` seconds.

    Each retry is logged as a warning; the last failure is logged as an error and raised.
    """
    deadline = time.monotonic() + within
    delay = first_delay
    while True:
        try:
            return fn()
        except Exception as exc:
            if not retryable(exc):
                raise
            if time.monotonic() + delay > deadline:
                log.error("%s: still failing after %.0f s; giving up: %s", what, within, exc)
                raise
            log.warning("%s failed (%s); retrying in %.2f s", what, exc, delay)
        time.sleep(delay)  # backoff while the other end restarts, bounded by the deadline
        delay = min(delay * 2, max_delay)
