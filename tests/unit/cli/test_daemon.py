"""Pid-file handling: stale files are ignored, a live cloud is not started twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stratus.cli import daemon
from stratus.cli.paths import StatePaths


@pytest.fixture
def paths(tmp_path: Path) -> StatePaths:
    return StatePaths(tmp_path)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_no_pid_file_means_not_running(paths: StatePaths) -> None:
    assert daemon.read_pid(paths.pid_file) is None
    assert daemon.running_pid(paths) is None


@pytest.mark.parametrize("content", ["", "not a pid\n"])
def test_garbage_pid_file_means_not_running(paths: StatePaths, content: str) -> None:
    paths.pid_file.parent.mkdir(parents=True)
    paths.pid_file.write_text(content)
    assert daemon.running_pid(paths) is None


def test_stale_pid_is_ignored_and_replaced(paths: StatePaths) -> None:
    paths.pid_file.parent.mkdir(parents=True)
    paths.pid_file.write_text(f"{dead_pid()}\n")
    assert daemon.running_pid(paths) is None
    daemon.claim_pid_file(paths)
    assert daemon.read_pid(paths.pid_file) == os.getpid()


def test_a_pid_that_is_not_stratus_is_ignored(paths: StatePaths) -> None:
    paths.pid_file.parent.mkdir(parents=True)
    paths.pid_file.write_text("1\n")  # init, alive but not a stratus serve
    assert daemon.running_pid(paths) is None


def test_release_removes_only_own_files(paths: StatePaths) -> None:
    daemon.claim_pid_file(paths)
    daemon.write_runtime(paths, {"pid": os.getpid(), "services": []})
    assert daemon.read_runtime(paths) == {"pid": os.getpid(), "services": []}
    daemon.release_pid_file(paths)
    assert not paths.pid_file.exists() and not paths.runtime_file.exists()

    paths.pid_file.write_text("1\n")
    daemon.release_pid_file(paths)
    assert paths.pid_file.exists()


def test_claim_refuses_when_another_serve_runs(paths: StatePaths, monkeypatch: pytest.MonkeyPatch) -> None:
    paths.pid_file.parent.mkdir(parents=True)
    paths.pid_file.write_text("1\n")
    monkeypatch.setattr(daemon, "is_stratus_process", lambda pid: pid == 1)
    with pytest.raises(daemon.AlreadyRunning, match="stratus down"):
        daemon.claim_pid_file(paths)


def test_stop_of_a_gone_process_is_clean() -> None:
    assert daemon.stop(dead_pid(), timeout=1) is True
