"""A ``stratus testbed`` for one test module: up before, down after, and nothing left behind."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from stratus.cli.testbed_plan import Plan, load_plan, new_id


@contextmanager
def running_testbed(
    tmp_path_factory: pytest.TempPathFactory,
    stratus: Path,
    label: str,
    *,
    hosts: int = 2,
    up_timeout: float = 900,
    before_down: Callable[[], None] | None = None,
    check_nothing_left: Callable[[str, Path, dict[str, object]], None],
) -> Iterator[Plan]:
    """``stratus testbed up --hosts N`` in a fresh directory; ``down`` and ``check_nothing_left`` at the end."""
    root = tmp_path_factory.mktemp(label)
    tid = new_id()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRATUS_")}
    try:
        up = subprocess.run([str(stratus), "testbed", "up", "--hosts", str(hosts), "--state-dir", str(root),
                             "--id", tid], env=env, capture_output=True, text=True, timeout=up_timeout)  # fmt: skip
        assert up.returncode == 0, f"testbed up failed:\n{up.stdout}\n{up.stderr}"
        yield load_plan(root, tid)
    finally:
        if before_down is not None:
            before_down()
        plan_file = root / tid / "testbed.json"
        saved = json.loads(plan_file.read_text()) if plan_file.exists() else None
        down = subprocess.run([str(stratus), "testbed", "down", "--state-dir", str(root), "--id", tid],
                              env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
        if saved is not None:  # `up` failed before saving anything: there is nothing to check
            assert down.returncode == 0, f"testbed down failed:\n{down.stdout}\n{down.stderr}"
            check_nothing_left(tid, root, saved)
