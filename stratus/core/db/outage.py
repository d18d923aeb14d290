"""Riding out a database restart in background work (the conductor), where there is no client to retry.

An API request that meets an outage answers 503 with Retry-After and the client tries again. Work done for
a message off the bus has nobody to answer to: it retries here instead, for about as long as a restart of
the server takes. Only wrap work that a failed attempt leaves undone, which is one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from stratus.core.exceptions import ServiceUnavailable
from stratus.core.retry import with_backoff

LOG = logging.getLogger(__name__)

T = TypeVar("T")

OUTAGE_RETRY_SECONDS = 60.0
_FIRST_DELAY, _MAX_DELAY = 0.25, 4.0


class DatabaseUnavailable(ServiceUnavailable):
    """The database server is unreachable or restarting (see ``engine.is_outage``)."""


def retry_on_outage(fn: Callable[[], T], *, what: str, within: float = OUTAGE_RETRY_SECONDS) -> T:
    """``fn()``, called again with backoff while it raises DatabaseUnavailable, for up to ``within`` seconds."""
    return with_backoff(
        fn,
        retryable=lambda exc: isinstance(exc, DatabaseUnavailable),
        within=within,
        first_delay=_FIRST_DELAY,
        max_delay=_MAX_DELAY,
        what=what,
        log=LOG,
    )
