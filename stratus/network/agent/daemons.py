"""What the OVS/OVN daemon sets (``central.py``, ``chassis.py``) share: environment, readiness, ovsdb-server.

Each set lives in one directory holding its databases, sockets, pid files and logs, and every OVS/OVN
run/db/log directory variable points there, so several sets (a test's and a running cloud's) never
share a socket (ovn-controller finds ``br-int.mgmt`` through ``OVS_RUNDIR``).
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

from stratus.core.process import ProcessError, ProcessSpec
from stratus.network.agent.ovs import INSTALL_HINT

LOG_ARGS = ["--no-chdir", "-vconsole:info", "-vsyslog:off"]
"""Foreground, log to stderr (the process helper appends it to ``<name>.log``), nothing to syslog."""
UNIX_PATH_MAX = 107


def daemon_args(directory: Path, name: str) -> list[str]:
    """Logging options plus ``--pidfile`` (the daemon locks it, so ``ovs-appctl -t <name>`` finds it; it holds
    the same pid the process helper records)."""
    return [f"--pidfile={directory / name}.pid", *LOG_ARGS]


def ovs_env(directory: Path) -> dict[str, str]:
    d = str(directory)
    names = ("OVS_RUNDIR", "OVS_DBDIR", "OVS_LOGDIR", "OVS_SYSCONFDIR", "OVN_RUNDIR", "OVN_DBDIR", "OVN_LOGDIR")
    return dict.fromkeys(names, d)


def netns_prefix(netns: str | None) -> list[str]:
    return ["ip", "netns", "exec", netns] if netns else []


def check_socket_dir(directory: Path) -> None:
    """Unix socket paths are limited to 107 bytes: fail early with a clear message."""
    longest = directory / "ovn-controller.4194304.ctl"
    if len(str(longest)) > UNIX_PATH_MAX:
        raise ProcessError(f"{directory} is too long for unix sockets (paths up to {UNIX_PATH_MAX} bytes): "
                           "use a shorter [core] state_dir")  # fmt: skip


def answers(path: Path) -> bool:
    """True if a unix stream socket accepts a connection at ``path``."""
    if not path.exists():
        return False
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(2)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def ensure_db(db: Path, schema: Path) -> None:
    """Create the OVSDB file ``db`` from ``schema`` unless it exists."""
    if db.exists():
        return
    if not schema.exists():
        raise ProcessError(f"OVSDB schema {schema} is missing. {INSTALL_HINT}")
    done = subprocess.run(["ovsdb-tool", "create", str(db), str(schema)], capture_output=True, text=True)
    if done.returncode != 0:
        raise ProcessError(f"ovsdb-tool create {db} {schema} failed: {done.stderr.strip()}")


def ovsdb_server(name: str, directory: Path, db: str, sock: str, schema: Path, *, unixctl: bool = False) -> ProcessSpec:
    """An ovsdb-server for ``<directory>/<db>`` on ``punix:<directory>/<sock>``, its file created from
    ``schema`` when missing (so a deleted database comes back empty)."""
    db_file, sock_path = directory / db, directory / sock
    argv = ["ovsdb-server", str(db_file), f"--remote=punix:{sock_path}", *daemon_args(directory, name)]
    if unixctl:
        argv.append(f"--unixctl={directory / f'{name}.ctl'}")
    return ProcessSpec(
        name=name,
        argv=argv,
        directory=directory,
        env=ovs_env(directory),
        ready=lambda _pid: answers(sock_path),
        prepare=lambda: ensure_db(db_file, schema),
        hint=INSTALL_HINT,
    )
