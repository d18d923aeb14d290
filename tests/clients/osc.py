"""Running the real ``openstack`` CLI against the test cloud."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import CloudHandle

OPENSTACK_BIN = Path(sys.executable).parent / "openstack"
# Commands that print nothing, so ``-f json`` does not apply to them.
NO_OUTPUT = {"add", "remove", "delete", "revoke", "set", "unset"}


class OscError(AssertionError):
    """The ``openstack`` command failed; carries its output."""


def run(cloud: CloudHandle, *args: str, os_cloud: str | None = "stratus", env: dict[str, str] | None = None) -> str:
    """Run ``openstack [--os-cloud X] args...`` and return stdout; raise OscError with stderr on failure."""
    cmd = [str(OPENSTACK_BIN)]
    if os_cloud is not None:
        cmd += ["--os-cloud", os_cloud]
    cmd += list(args)
    result = subprocess.run(cmd, env=env or cloud.env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise OscError(f"{' '.join(cmd)} exited {result.returncode}:\n{result.stderr}\n{result.stdout}")
    return result.stdout


def osc(cloud: CloudHandle, *args: str, os_cloud: str | None = "stratus", env: dict[str, str] | None = None) -> Any:
    """Run an ``openstack`` command with ``-f json`` where it prints something; returns the parsed JSON (or None)."""
    wants_json = not any(word in NO_OUTPUT for word in args[:3])
    out = run(cloud, *args, *(["-f", "json"] if wants_json else []), os_cloud=os_cloud, env=env)
    return json.loads(out) if wants_json and out.strip() else None
