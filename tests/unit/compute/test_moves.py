"""Host status as Nova derives it, and the evacuate body as each microversion's schema allows it."""

from __future__ import annotations

import datetime as dt

import pytest

from stratus.compute import models
from stratus.compute.api.microversion import Version
from stratus.compute.conf import ComputeConfig
from stratus.compute.core.move_actions import _evacuate_args
from stratus.compute.core.records import host_state
from stratus.core.exceptions import BadRequest

NOW = dt.datetime(2026, 1, 1, 12, 0, 0)
CONF = ComputeConfig(service_down_time=60)


def service(**kw: object) -> models.ComputeService:
    values = {"host": "h", "disabled": False, "forced_down": False, "last_seen_up": NOW, **kw}
    return models.ComputeService(**values)


def test_host_status_as_nova() -> None:
    assert host_state(service(), CONF, NOW) == "UP"
    assert host_state(service(last_seen_up=NOW - dt.timedelta(seconds=61)), CONF, NOW) == "UNKNOWN"
    assert host_state(service(last_seen_up=None), CONF, NOW) == "UNKNOWN"
    assert host_state(service(disabled=True, last_seen_up=None), CONF, NOW) == "MAINTENANCE"
    assert host_state(service(forced_down=True, disabled=True), CONF, NOW) == "DOWN"
    assert host_state(None, CONF, NOW) == ""


def v(text: str) -> Version:
    major, minor = text.split(".")
    return Version(int(major), int(minor))


def test_evacuate_body_by_microversion() -> None:
    assert _evacuate_args({"onSharedStorage": "False", "host": "h2"}, v("2.1")) == ("h2", None)
    assert _evacuate_args({"adminPass": "pw"}, v("2.14")) == (None, "pw")
    assert _evacuate_args({"host": "h2", "force": True}, v("2.29")) == ("h2", None)
    for body, version in [
        ({}, "2.1"),  # onSharedStorage required before 2.14
        ({"onSharedStorage": True, "adminPass": "pw"}, "2.1"),  # no new password on a shared disk
        ({"onSharedStorage": False}, "2.14"),  # gone at 2.14
        ({"force": True}, "2.29"),  # force needs a host
        ({"force": False, "host": "h"}, "2.68"),  # gone at 2.68
        ({"host": ""}, "2.14"),
        ({"host": 3}, "2.14"),
    ]:
        with pytest.raises(BadRequest):
            _evacuate_args(body, v(version))
