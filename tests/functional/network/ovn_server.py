"""A throwaway OVN Northbound ovsdb-server on a unix socket, run in the foreground and always killed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

NB_SCHEMA = Path("/usr/share/ovn/ovn-nb.ovsschema")
needs_ovn = pytest.mark.skipif(
    not (NB_SCHEMA.exists() and shutil.which("ovsdb-server") and shutil.which("ovn-nbctl")),
    reason="needs ovsdb-server, ovn-nbctl and the OVN NB schema",
)


class NbServer:
    """``start()`` / ``stop()`` / ``wipe()``; ``nbctl(...)`` runs ovn-nbctl against it."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="stratus-nb-"))  # short: unix socket paths are limited
        self.db = self.dir / "nb.db"
        self.sock = self.dir / "nb.sock"
        self.remote = f"unix:{self.sock}"
        self.proc: subprocess.Popen[bytes] | None = None

    def create_db(self) -> None:
        self.db.unlink(missing_ok=True)
        subprocess.run(["ovsdb-tool", "create", str(self.db), str(NB_SCHEMA)], check=True, capture_output=True)

    def start(self) -> None:
        if not self.db.exists():
            self.create_db()
        cmd = [
            "ovsdb-server",
            str(self.db),
            f"--remote=punix:{self.sock}",
            f"--unixctl={self.dir / 'nb.ctl'}",
            f"--pidfile={self.dir / 'nb.pid'}",
            f"--log-file={self.dir / 'nb.log'}",
            "--no-chdir",
            "-vconsole:off",
        ]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: self.sock.exists() and self._answers(), 10, "ovsdb-server to listen")

    def _answers(self) -> bool:
        return (
            subprocess.run(["ovn-nbctl", f"--db={self.remote}", "--timeout=2", "show"], capture_output=True).returncode
            == 0
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
        self.sock.unlink(missing_ok=True)

    def wipe(self) -> None:
        """Kill the server and start it again on an empty database file."""
        self.stop()
        self.create_db()
        self.start()

    def nbctl(self, *args: str) -> str:
        out = subprocess.run(["ovn-nbctl", f"--db={self.remote}", "--timeout=5", *args], capture_output=True, text=True)
        if out.returncode != 0:
            raise RuntimeError(f"ovn-nbctl {' '.join(args)}: {out.stderr}")
        return out.stdout.strip()

    def find(self, table: str, *conditions: str, column: str = "name") -> list[str]:
        out = self.nbctl("--bare", f"--columns={column}", "find", table, *conditions)
        return [line for line in out.splitlines() if line]

    def assert_unique_names(self) -> None:
        """Every named NB row exists once (a second row of the same name is a driver bug)."""
        for table in ("Logical_Switch", "Logical_Switch_Port", "Logical_Router", "Logical_Router_Port", "Port_Group"):
            names = self.find(table)
            assert len(names) == len(set(names)), f"duplicate {table} rows: {sorted(names)}"

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll ``check`` until true; returns the seconds it took, fails the test after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
