"""The supervised-process helper, with real (harmless) child processes: python sleeping on stdin-less loops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from stratus.core.process import ManagedProcess, ProcessError, ProcessSpec, Supervisor, pid_alive, read_pid

# SIGINT back to Python's default: a test run started in the background inherits it ignored (bash does that).
SLEEPER = [
    sys.executable,
    "-c",
    "import signal, time; signal.signal(signal.SIGINT, signal.default_int_handler); print('up', flush=True); "
    "time.sleep(300)",
]


def wait_for(check: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)  # polling a condition, bounded by the deadline


def logged_up(spec: ProcessSpec) -> Callable[[int], bool]:
    # a line of its own: the log's "starting: <argv>" header quotes print('up') before the child runs it
    return lambda _pid: spec.log_file.exists() and "up" in spec.log_file.read_text().splitlines()


def make_spec(tmp_path: Path, name: str = "sleeper", argv: list[str] | None = None, **kw: object) -> ProcessSpec:
    spec = ProcessSpec(name=name, argv=argv or SLEEPER, directory=tmp_path, program=Path(sys.executable).name, **kw)  # type: ignore[arg-type]
    if spec.ready is None:
        spec.ready = logged_up(spec)
    return spec


@pytest.fixture
def cleanup() -> Iterator[list[ManagedProcess]]:
    procs: list[ManagedProcess] = []
    yield procs
    for p in procs:
        p.stop()


def test_start_writes_pid_file_and_stop_removes_it(tmp_path: Path, cleanup: list[ManagedProcess]) -> None:
    proc = ManagedProcess(make_spec(tmp_path))
    cleanup.append(proc)
    proc.start()
    assert proc.alive() and read_pid(tmp_path / "sleeper.pid") == proc.pid
    pid = proc.pid
    assert pid is not None
    proc.stop()
    assert not proc.alive() and not pid_alive(pid)
    assert not (tmp_path / "sleeper.pid").exists()
    proc.stop()  # idempotent


def test_stale_process_of_a_crashed_run_is_stopped_first(tmp_path: Path, cleanup: list[ManagedProcess]) -> None:
    stale = subprocess.Popen(SLEEPER, stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert stale.stdout is not None and stale.stdout.readline() == "up\n"  # running, not mid-exec
        (tmp_path / "sleeper.pid").write_text(f"{stale.pid}\n")
        proc = ManagedProcess(make_spec(tmp_path))
        cleanup.append(proc)
        proc.start()
        stale.wait(timeout=15)  # (reaped by the helper already: no exit status left to compare)
        assert not pid_alive(stale.pid)
        assert proc.pid != stale.pid and proc.alive()
    finally:
        if stale.poll() is None:
            stale.kill()
            stale.wait()


def test_a_pid_file_naming_another_program_is_left_alone(tmp_path: Path, cleanup: list[ManagedProcess]) -> None:
    other = subprocess.Popen(["sleep", "300"])
    try:
        (tmp_path / "sleeper.pid").write_text(f"{other.pid}\n")
        proc = ManagedProcess(make_spec(tmp_path))
        cleanup.append(proc)
        proc.start()
        assert other.poll() is None  # a recycled pid: not ours to kill
    finally:
        other.kill()
        other.wait()


def test_a_process_that_exits_at_once_is_reported_with_its_log(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; print('bad option --frobnicate', file=sys.stderr); sys.exit(3)"]
    proc = ManagedProcess(make_spec(tmp_path, argv=argv, hint="run install.sh"))
    with pytest.raises(ProcessError, match=r"(?s)sleeper exited with code 3.*bad option --frobnicate.*install\.sh"):
        proc.start()
    assert not (tmp_path / "sleeper.pid").exists()


def test_a_missing_program_says_what_to_install(tmp_path: Path) -> None:
    proc = ManagedProcess(make_spec(tmp_path, argv=["/nonexistent/ovs-vswitchd"], hint="bash scripts/install-debs.sh"))
    with pytest.raises(ProcessError, match="not installed. bash scripts/install-debs.sh"):
        proc.start()


def test_not_ready_before_the_deadline_is_an_error_and_the_process_is_stopped(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, ready=lambda _pid: False, start_timeout=0.3)
    proc = ManagedProcess(spec)
    with pytest.raises(ProcessError, match="is not ready"):
        proc.start()
    assert proc.proc is None


def test_supervisor_restarts_a_dead_process_and_runs_prepare_again(tmp_path: Path) -> None:
    prepared: list[int] = []
    spec = make_spec(tmp_path, prepare=lambda: prepared.append(1))
    proc = ManagedProcess(spec)
    sup = Supervisor("test", [proc], poll=0.05)
    sup.start()
    try:
        first = proc.pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        wait_for(lambda: proc.pid not in (None, first) and proc.alive())
        assert sup.restarts == {"sleeper": 1} and len(prepared) == 2
    finally:
        sup.stop()
    assert proc.proc is None and not (tmp_path / "sleeper.pid").exists()


def test_supervisor_start_failure_stops_what_it_started(tmp_path: Path) -> None:
    good = ManagedProcess(make_spec(tmp_path, name="good"))
    bad = ManagedProcess(make_spec(tmp_path, name="bad", argv=[sys.executable, "-c", "raise SystemExit(1)"]))
    sup = Supervisor("test", [good, bad])
    with pytest.raises(ProcessError, match="bad exited"):
        sup.start()
    assert not good.alive() and not (tmp_path / "good.pid").exists()


def test_before_stop_is_asked_first(tmp_path: Path) -> None:
    asked: list[int] = []

    def clean_exit(pid: int) -> None:
        asked.append(pid)
        os.kill(pid, signal.SIGINT)  # python exits on KeyboardInterrupt: no SIGTERM needed

    proc = ManagedProcess(make_spec(tmp_path, before_stop=clean_exit))
    proc.start()
    child = proc.proc
    assert child is not None
    proc.stop()
    assert asked == [child.pid] and child.returncode == -signal.SIGINT  # ended by before_stop, not SIGTERM
