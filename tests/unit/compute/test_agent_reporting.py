"""An agent's build reports survive a broker or database restart, and only that (see agent/reporting.py)."""

from __future__ import annotations

import pytest

from stratus.compute.agent.reporting import reliably
from stratus.core.bus import BusUnavailable, MessagingTimeout, RemoteError


@pytest.mark.parametrize(
    "outage",
    [
        BusUnavailable("broker restarting"),
        MessagingTimeout("compute-conductor", "instance_update", 1.0),
        RemoteError("DatabaseUnavailable", "The database is unavailable; retry shortly.", 503),
    ],
)
def test_a_report_is_sent_again_until_it_gets_through(outage: Exception) -> None:
    attempts: list[int] = []

    def report() -> bool:
        attempts.append(1)
        if len(attempts) < 3:
            raise outage
        return True

    assert reliably(report, what="test", deadline=30) is True
    assert len(attempts) == 3


def test_a_report_the_conductor_refuses_is_not_sent_again() -> None:
    attempts: list[int] = []

    def report() -> None:
        attempts.append(1)
        raise RemoteError("ValueError", "instance field 'x' cannot be set by an agent", None)

    with pytest.raises(RemoteError):
        reliably(report, what="test", deadline=30)
    assert attempts == [1]


def test_a_report_gives_up_at_its_deadline() -> None:
    def report() -> None:
        raise BusUnavailable("broker gone for good")

    with pytest.raises(BusUnavailable):
        reliably(report, what="test", deadline=1.0)
