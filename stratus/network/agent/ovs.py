"""A small wrapper of ``ovs-vsctl`` on this host's own ovsdb-server socket (``<state_dir>/ovs/db.sock``).

Always ``--db=unix:<socket>``, never the machine's default database, so a Stratus chassis never touches
another Open vSwitch running on the same machine.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

INSTALL_HINT = "Install Open vSwitch and OVN with `bash scripts/install-debs.sh`."


class OvsError(RuntimeError):
    """``ovs-vsctl`` failed; the message quotes the command and its stderr."""

    def __init__(self, args: list[str], returncode: int, stderr: str):
        super().__init__(f"{' '.join(args)} failed (exit code {returncode}): {stderr.strip()}")
        self.args_ = args
        self.returncode = returncode
        self.stderr = stderr


def ovsdb_map(value: Any) -> dict[str, str]:
    """An OVSDB JSON map (``["map", [[k, v], ...]]``) as a dict."""
    if isinstance(value, list) and len(value) == 2 and value[0] == "map":
        return {str(k): str(v) for k, v in value[1]}
    return {}


def _quote(value: str) -> str:
    """An ovs-vsctl value, quoted so ``:``, ``=``, ``,`` and spaces survive."""
    return json.dumps(value)


class Ovs:
    """``ovs-vsctl`` against ``db_sock``. Thread-safe (each call is its own process)."""

    def __init__(self, db_sock: Path | str, *, timeout: float = 30.0, program: str = "ovs-vsctl"):
        self.db_sock = Path(db_sock)
        self.timeout = timeout
        self.program = program

    def command(self, *args: str) -> list[str]:
        return [self.program, f"--db=unix:{self.db_sock}", f"--timeout={max(1, round(self.timeout))}", *args]

    def vsctl(self, *args: str) -> str:
        """Run ``ovs-vsctl <args>`` (pass ``--no-wait`` first not to wait for ovs-vswitchd); returns stdout."""
        cmd = self.command(*args)
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=self.timeout + 5)
        except FileNotFoundError:
            raise OvsError(cmd, 127, f"{self.program} is not installed. {INSTALL_HINT}") from None
        except subprocess.TimeoutExpired:
            raise OvsError(cmd, -1, f"no answer within {self.timeout + 5:.0f} s") from None
        if done.returncode != 0:
            raise OvsError(cmd, done.returncode, done.stderr)
        return done.stdout

    def add_port(
        self,
        bridge: str,
        name: str,
        *,
        iface_id: str | None = None,
        external_ids: dict[str, str] | None = None,
        no_wait: bool = False,
    ) -> None:
        """Add ``name`` to ``bridge`` (nothing if it is already there) and set its Interface external_ids
        (``iface-id`` plus ``external_ids``); keys not given are left as they are. Idempotent."""
        ids = dict(external_ids or {})
        if iface_id is not None:
            ids["iface-id"] = iface_id
        args = ["--no-wait"] if no_wait else []
        args += ["--may-exist", "add-port", bridge, name]
        if ids:
            args += ["--", "set", "Interface", name, *(f"external_ids:{_quote(k)}={_quote(v)}" for k, v in ids.items())]
        self.vsctl(*args)

    def del_port(self, name: str, *, no_wait: bool = False) -> None:
        """Remove port ``name`` from whichever bridge holds it; nothing if there is none."""
        self.vsctl(*(["--no-wait"] if no_wait else []), "--if-exists", "del-port", name)

    def list_ports(self, bridge: str) -> list[str]:
        return [line for line in self.vsctl("list-ports", bridge).splitlines() if line]

    def interfaces(self) -> dict[str, dict[str, str]]:
        """Every Interface's name -> external_ids, in one call."""
        out = self.vsctl("--format=json", "--columns=name,external_ids", "list", "Interface")
        return {row[0]: ovsdb_map(row[1]) for row in json.loads(out)["data"]}

    def interface_external_ids(self, name: str) -> dict[str, str]:
        """Interface ``name``'s external_ids; {} when there is no such interface."""
        out = self.vsctl("--format=json", "--columns=name,external_ids", "find", "Interface", f"name={_quote(name)}")
        rows = json.loads(out)["data"]
        return ovsdb_map(rows[0][1]) if rows else {}

    def bridge_exists(self, bridge: str) -> bool:
        try:
            self.vsctl("br-exists", bridge)
        except OvsError as err:
            if err.returncode == 2:
                return False
            raise
        return True
