"""Reports from an agent to the conductor that must not be lost to a broker or database restart.

A build whose last report ("ACTIVE", or "failed, reschedule") is lost stays in BUILD for good, so those
reports are retried with backoff while the bus is down (BusUnavailable), a reply was lost (MessagingTimeout)
or the conductor answered 503 (its database is restarting). Each such report is idempotent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from stratus.core.bus import BusUnavailable, MessagingTimeout, RemoteError
from stratus.core.retry import with_backoff

LOG = logging.getLogger(__name__)

T = TypeVar("T")

REPORT_DEADLINE = 300.0
_FIRST_DELAY, _MAX_DELAY = 0.5, 10.0


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, BusUnavailable | MessagingTimeout):
        return True
    return isinstance(exc, RemoteError) and exc.status == 503


def reliably(fn: Callable[[], T], *, what: str, deadline: float = REPORT_DEADLINE) -> T:
    """``fn()``, tried again while it fails for a reason that passes (see module docstring)."""
    return with_backoff(
        fn, retryable=_retryable, within=deadline, first_delay=_FIRST_DELAY, max_delay=_MAX_DELAY, what=what, log=LOG
    )
