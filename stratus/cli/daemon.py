"""The background process: pid file, detached start, stop by pid with a deadline."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil

from stratus.cli.paths import StatePaths


class AlreadyRunning(RuntimeError):
    """Another ``stratus serve`` already runs on this state directory."""


def read_pid(pid_file: Path) -> int | None:
    """The pid in ``pid_file``, or None if the file is missing or does not hold a number."""
    try:
        return int(pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None


def is_stratus_process(pid: int) -> bool:
    """True if ``pid`` is alive and runs the cloud (not a recycled pid)."""
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        cmdline = proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False
    # `stratus serve` (what `up` launches) or `stratus up --foreground`
    return bool({"serve", "up"} & set(cmdline)) and any("stratus" in part for part in cmdline)


def running_pid(paths: StatePaths) -> int | None:
    """The pid of the running cloud for this state directory, or None (a stale pid file is ignored)."""
    pid = read_pid(paths.pid_file)
    if pid is not None and is_stratus_process(pid):
        return pid
    return None


def claim_pid_file(paths: StatePaths) -> None:
    """Record this process as the cloud of the state directory; raise AlreadyRunning if another one is."""
    other = running_pid(paths)
    if other is not None and other != os.getpid():
        raise AlreadyRunning(f"Stratus already runs as pid {other} on {paths.state_dir}; stop it with `stratus down`")
    paths.pid_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.pid_file.with_suffix(".tmp")
    tmp.write_text(f"{os.getpid()}\n")
    os.replace(tmp, paths.pid_file)


def release_pid_file(paths: StatePaths) -> None:
    """Remove the pid and runtime files if they still belong to this process."""
    if read_pid(paths.pid_file) == os.getpid():
        for path in (paths.runtime_file, paths.pid_file):
            path.unlink(missing_ok=True)


def write_runtime(paths: StatePaths, data: dict[str, Any]) -> None:
    paths.runtime_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.runtime_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, paths.runtime_file)


def read_runtime(paths: StatePaths) -> dict[str, Any] | None:
    """What the running ``serve`` wrote once its APIs listened, or None if not (yet) there."""
    try:
        return json.loads(paths.runtime_file.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def spawn_serve(paths: StatePaths, config_file: Path | None) -> subprocess.Popen[bytes]:
    """Start ``stratus serve`` detached (own session), its output appended to the log file."""
    paths.log_file.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "stratus.cli.main", "serve"]
    if config_file is not None:
        cmd += ["--config", str(config_file)]
    with open(paths.log_file, "ab") as log:
        return subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True
        )


def _gone(proc: psutil.Process) -> bool:
    """True once the process has exited (a zombie nobody reaped yet counts as exited)."""
    try:
        return proc.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _wait_gone(proc: psutil.Process, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not _gone(proc):
        if time.monotonic() > deadline:
            return False
        try:
            proc.wait(min(0.2, max(0.0, deadline - time.monotonic())))  # returns early when it exits
        except psutil.TimeoutExpired:
            pass
    return True


def stop(pid: int, timeout: float = 30.0) -> bool:
    """SIGTERM ``pid`` and wait up to ``timeout`` seconds; SIGKILL it if it lingers. True if it stopped cleanly."""
    try:
        proc = psutil.Process(pid)
        proc.send_signal(signal.SIGTERM)
    except psutil.NoSuchProcess:
        return True
    if _wait_gone(proc, timeout):
        return True
    with contextlib.suppress(psutil.NoSuchProcess):
        proc.kill()
    _wait_gone(proc, 10)
    return False
