"""Client tests run the real ``openstack`` CLI and openstacksdk against the session's ``cloud`` (tests/conftest.py)."""

from __future__ import annotations

import pytest

from tests.clients.osc import OPENSTACK_BIN


@pytest.fixture(scope="session", autouse=True)
def _openstack_cli_installed() -> None:
    if not OPENSTACK_BIN.exists():
        pytest.fail(f"{OPENSTACK_BIN} is missing: install the test extras with `pip install -e '.[test]'`")
