"""Microversion parsing, Nova error bodies and the vm_state/task_state -> status map."""

from __future__ import annotations

import pytest

from stratus.compute.api.errors import nova_error
from stratus.compute.api.microversion import MAX, MIN, Version, negotiate, requested
from stratus.compute.core.states import status_of, vm_states_for_status


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, MIN), ("latest", MAX), ("2.1", Version(2, 1)), ("2.79", Version(2, 79)), ("2.10", Version(2, 10))],
)
def test_supported_versions(value: str | None, expected: Version) -> None:
    assert negotiate(value) == (expected, 0, "")


@pytest.mark.parametrize(("value", "status"), [("2.80", 406), ("3.0", 406), ("1.9", 406), ("2", 400), ("x.y", 400)])
def test_unsupported_versions(value: str, status: int) -> None:
    version, code, message = negotiate(value)
    assert version is None and code == status and message


def test_new_header_wins_and_other_services_are_ignored() -> None:
    headers = {"openstack-api-version": "image 2.5, compute 2.60", "x-openstack-nova-api-version": "2.3"}
    assert requested(headers) == "2.60"
    assert requested({"openstack-api-version": "volume 3.0", "x-openstack-nova-api-version": "2.3"}) == "2.3"


def test_version_compares_with_strings() -> None:
    assert Version(2, 47) >= "2.47" and Version(2, 10) >= "2.9" and Version(2, 9) < "2.10"


def test_error_bodies_use_nova_fault_names() -> None:
    assert nova_error(404, "Not Found", "gone") == {"itemNotFound": {"code": 404, "message": "gone"}}
    assert "conflictingRequest" in nova_error(409, "", "") and "computeFault" in nova_error(500, "", "")


@pytest.mark.parametrize(
    ("vm_state", "task_state", "status"),
    [
        ("building", "scheduling", "BUILD"),
        ("active", None, "ACTIVE"),
        ("active", "rebooting", "REBOOT"),
        ("active", "rebooting_hard", "HARD_REBOOT"),
        ("active", "resize_prep", "RESIZE"),
        ("resized", None, "VERIFY_RESIZE"),
        ("resized", "resize_reverting", "REVERT_RESIZE"),
        ("stopped", None, "SHUTOFF"),
        ("active", "rebuilding", "REBUILD"),
        ("error", None, "ERROR"),
        ("active", "deleting", "ACTIVE"),
        ("deleted", None, "DELETED"),
    ],
)
def test_status_map(vm_state: str, task_state: str | None, status: str) -> None:
    assert status_of(vm_state, task_state) == status


def test_status_filter() -> None:
    assert vm_states_for_status("shutoff") == ({"stopped"}, None)
    assert vm_states_for_status("BOGUS") is None
    vms, tasks = vm_states_for_status("REBOOT")  # type: ignore[misc]
    assert "active" in vms and tasks == {"rebooting", "reboot_pending", "reboot_started"}
