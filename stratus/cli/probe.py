"""Does an API answer? One HTTP GET, and waiting for all of them with a deadline."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import httpx


def answers(url: str, timeout: float = 2.0) -> bool:
    """True if ``url`` gives any HTTP response below 500 (a version document, 300 or 401 all count)."""
    try:
        return httpx.get(url, timeout=timeout).status_code < 500
    except httpx.HTTPError:
        return False


def wait_until_answering(
    urls: Iterable[str],
    deadline: float,
    *,
    on_answer: Callable[[str], None] | None = None,
    alive: Callable[[], bool] = lambda: True,
    interval: float = 0.1,
) -> list[str]:
    """Poll ``urls`` until all answer, ``deadline`` (``time.monotonic()``) passes or ``alive()`` turns false.

    Returns the URLs still not answering (empty on success).
    """
    pending = list(urls)
    while pending and time.monotonic() < deadline and alive():
        for url in list(pending):
            if answers(url):
                pending.remove(url)
                if on_answer is not None:
                    on_answer(url)
        if pending:
            time.sleep(interval)  # polling interval of a condition checked against a deadline
    return pending
