"""Supervised foreground processes: start in their own session with a log file and a pid file, stop by pid.

There is no systemd on these machines, and detached daemons were left as zombies, so every daemon
Stratus runs (ovsdb-server, ovs-vswitchd, ovn-controller, ovn-northd, ...) is a child of this process:

- :class:`ManagedProcess` starts one from a :class:`ProcessSpec` (``<dir>/<name>.pid``, stdout and
  stderr appended to ``<dir>/<name>.log``), waits for its readiness check with a deadline, and raises
  :class:`ProcessError` quoting the log's last lines when it cannot start. A daemon of a crashed
  earlier run (pid file alive, same program) is stopped first.
- :class:`Supervisor` starts a list of them in order, restarts any that dies (at once the first time,
  then with exponential backoff) and stops them in reverse order: SIGTERM, SIGKILL after a deadline,
  then reaps.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

LOG = logging.getLogger(__name__)
POLL = 0.1
"""Seconds between two looks at a readiness check or a dying process (all such waits have deadlines)."""
STABLE_AFTER = 60.0
"""A process that ran this many seconds before dying starts its restart backoff afresh."""


class ProcessError(RuntimeError):
    """A process could not be started or did not become ready; the message names it and quotes its log."""


@dataclass
class ProcessSpec:
    """How to run one daemon. ``ready(pid)`` says it serves; ``prepare`` runs before each start (e.g. create
    a missing database file) and ``after_start`` after each successful one (e.g. re-apply an address)."""

    name: str
    argv: list[str]
    directory: Path
    env: dict[str, str] = field(default_factory=dict)
    ready: Callable[[int], bool] | None = None
    prepare: Callable[[], None] | None = None
    after_start: Callable[[], None] | None = None
    before_stop: Callable[[int], None] | None = None
    """Asked first when stopping a live process (e.g. a clean-exit command); SIGTERM follows if it lingers."""
    start_timeout: float = 30.0
    stop_timeout: float = 10.0
    hint: str = ""
    """What to tell the user when the program is missing or cannot start (e.g. an install command)."""
    program: str = ""
    """Name to recognise in /proc/<pid>/cmdline (default: the basename of the first argv word)."""

    @property
    def pid_file(self) -> Path:
        return self.directory / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.directory / f"{self.name}.log"

    @property
    def program_name(self) -> str:
        return self.program or Path(self.argv[0]).name


def read_pid(pid_file: Path) -> int | None:
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def pid_alive(pid: int) -> bool:
    """True if ``pid`` runs and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"


def runs_program(pid: int, program: str) -> bool:
    """True if ``pid`` is alive and its command line names ``program`` (guards against recycled pids)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return pid_alive(pid) and any(Path(a.decode(errors="replace")).name == program for a in argv if a)


def tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.strip().splitlines()[-lines:]) or "(empty log)"


def kill_pid(pid: int, timeout: float, *, reap: Callable[[], object] | None = None) -> None:
    """SIGTERM ``pid``, SIGKILL it if it still runs after ``timeout`` seconds, and wait until it is gone."""
    reap = reap or (lambda: _reap(pid))
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            reap()
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            reap()
            if not pid_alive(pid):
                return
            time.sleep(POLL)  # waiting for the exit, bounded by the deadline
    LOG.error("pid %d survived SIGKILL", pid)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


class ManagedProcess:
    """One daemon started from its spec; not thread-safe (the :class:`Supervisor` serialises calls)."""

    def __init__(self, spec: ProcessSpec):
        self.spec = spec
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop_stale(self) -> None:
        """Stop a daemon a crashed earlier run left behind (its pid file names a live process of the program)."""
        pid = read_pid(self.spec.pid_file)
        if pid is None or pid == os.getpid() or (self.proc is not None and pid == self.proc.pid):
            return
        if runs_program(pid, self.spec.program_name):
            LOG.warning("stopping stale %s (pid %d) left by an earlier run", self.spec.name, pid)
            kill_pid(pid, self.spec.stop_timeout)
        self.spec.pid_file.unlink(missing_ok=True)

    def start(self) -> None:
        """Start the daemon and wait until it is ready; ProcessError (with its log) if it is not."""
        spec = self.spec
        spec.directory.mkdir(parents=True, exist_ok=True)
        self.stop_stale()
        if spec.prepare is not None:
            spec.prepare()
        env = {**os.environ, **spec.env}
        with open(spec.log_file, "ab") as out:
            out.write(f"---- {time.strftime('%Y-%m-%dT%H:%M:%S')} starting: {' '.join(spec.argv)}\n".encode())
            out.flush()
            try:
                self.proc = subprocess.Popen(
                    spec.argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, start_new_session=True
                )
            except FileNotFoundError:
                raise ProcessError(f"{spec.name}: {spec.argv[0]} is not installed. {spec.hint}".strip()) from None
        spec.pid_file.write_text(f"{self.proc.pid}\n")
        deadline = time.monotonic() + spec.start_timeout
        while not (spec.ready is None or spec.ready(self.proc.pid)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                why = f"exited with code {self.proc.poll()}" if self.proc.poll() is not None else "is not ready"
                self.stop()
                raise ProcessError(
                    f"{spec.name} {why} after start ({' '.join(spec.argv)}); last lines of {spec.log_file}:\n"
                    f"{tail(spec.log_file)}\n{spec.hint}".strip()
                )
            time.sleep(POLL)  # waiting for readiness, bounded by the deadline
        if spec.after_start is not None:
            try:
                spec.after_start()
            except Exception as exc:
                self.stop()
                raise ProcessError(f"{spec.name} started, but setting it up failed: {exc}") from exc
        LOG.info("started %s (pid %d)", spec.name, self.proc.pid)

    def stop(self) -> None:
        """SIGTERM, SIGKILL after the spec's deadline, reap; removes the pid file. Idempotent."""
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None and self.spec.before_stop is not None:
                try:
                    self.spec.before_stop(proc.pid)
                    proc.wait(timeout=self.spec.stop_timeout)
                except Exception as exc:  # SIGTERM below
                    LOG.warning("clean stop of %s failed: %s", self.spec.name, exc)
            if proc.poll() is None:
                kill_pid(proc.pid, self.spec.stop_timeout, reap=proc.poll)
            proc.wait(timeout=5)
        if proc is None or read_pid(self.spec.pid_file) == proc.pid:
            self.spec.pid_file.unlink(missing_ok=True)


class Supervisor:
    """Starts processes in order, restarts any that dies, stops them in reverse order."""

    def __init__(
        self, name: str, processes: Sequence[ManagedProcess], *, poll: float = 0.25, max_backoff: float = 30.0
    ):
        self.name = name
        self.processes = list(processes)
        self.poll = poll
        self.max_backoff = max_backoff
        self.restarts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures: dict[str, int] = {}
        self._next_try: dict[str, float] = {}
        self._started_at: dict[str, float] = {}

    def start(self) -> None:
        """Start every process (stopping those already started if one fails), then watch them."""
        with self._lock:
            try:
                for proc in self.processes:
                    proc.start()
                    self._started_at[proc.spec.name] = time.monotonic()
            except BaseException:
                self._stop_all()
                raise
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name=f"supervisor-{self.name}", daemon=True)
        self._thread.start()

    def get(self, name: str) -> ManagedProcess:
        return next(p for p in self.processes if p.spec.name == name)

    def _watch(self) -> None:
        while not self._stop.wait(self.poll):
            with self._lock:
                if self._stop.is_set():
                    return
                for proc in self.processes:
                    if not proc.alive():
                        self._revive(proc)

    def _revive(self, proc: ManagedProcess) -> None:
        name = proc.spec.name
        if proc.proc is not None:  # it has just died
            LOG.error(
                "%s (pid %d) exited with code %s; last lines of %s:\n%s",
                name, proc.proc.pid, proc.proc.poll(), proc.spec.log_file, tail(proc.spec.log_file),
            )  # fmt: skip
            if time.monotonic() - self._started_at.get(name, 0.0) > STABLE_AFTER:
                self._failures[name] = 0  # it ran a good while: a fresh failure, not a crash loop
            proc.stop()
        if time.monotonic() < self._next_try.get(name, 0.0):
            return
        failures = self._failures[name] = self._failures.get(name, 0) + 1
        # first restart at once, then 1, 3, 7, 15, ... seconds apart (capped)
        self._next_try[name] = time.monotonic() + min(self.max_backoff, 2.0 ** (failures - 1) - 1)
        try:
            proc.start()
        except Exception as exc:
            LOG.error("restarting %s failed (attempt %d): %s", name, failures, exc)
            return
        self._started_at[name] = time.monotonic()
        self.restarts[name] = self.restarts.get(name, 0) + 1
        LOG.warning("restarted %s (pid %s)", name, proc.pid)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        with self._lock:
            self._stop_all()

    def _stop_all(self) -> None:
        for proc in reversed(self.processes):
            try:
                proc.stop()
            except Exception:
                LOG.exception("stopping %s failed", proc.spec.name)
