"""The host daemons the libvirt driver needs: virtlogd and libvirtd, started only if not already running.

There is no systemd on these machines, so daemons run in the foreground in their own session and
their pids are kept in ``<state_dir>/run/`` (never ``-d``: detached daemons were left as zombies).

- ``ensure_libvirt(state_dir)``: the machine's own libvirtd at ``qemu:///system``; virtlogd and
  libvirtd are started only when their sockets in /run/libvirt do not answer.
- ``ensure_libvirt(state_dir, private=True)``: a libvirtd of this state directory alone, in a private
  mount namespace whose /run/libvirt, /var/{lib,cache,log}/libvirt and /etc/libvirt are bind mounts
  of ``<state_dir>/libvirt/*`` (the test bed's one-libvirtd-per-host; tests use it so they never see
  other users' domains). Its qemu.conf runs QEMU as root without relabelling and writes the serial
  console files directly, so it needs no virtlogd. With ``listen_address`` (live migration) it also listens
  on TCP there, without authentication, and QEMU takes incoming migrations on that address only: give
  it only an address of an isolated network (the test bed's underlay), never the machine's own.

Both return the connection URI; ``stop_libvirt(state_dir)`` stops what this module started.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path

LOG = logging.getLogger(__name__)

SYSTEM_RUN = Path("/run/libvirt")
START_TIMEOUT = 30.0
DAEMONS = ("libvirtd", "virtlogd")
PRIVATE_QEMU_CONF = """\
# Written by Stratus for a private libvirtd: QEMU as root, no chown of images, consoles straight to files.
user = "root"
group = "root"
dynamic_ownership = 0
stdio_handler = "file"
"""
LIBVIRT_TCP_PORT = 16509
PRIVATE_LIBVIRTD_TCP_CONF = """\
# Written by Stratus: live migration between the test bed's hosts, on their isolated underlay only.
listen_tls = 0
listen_tcp = 1
auth_tcp = "none"
listen_addr = "{address}"
tcp_port = "{port}"
"""
PRIVATE_QEMU_MIGRATION_CONF = """\
migration_address = "{address}"
migration_host = "{address}"
"""
PRIVATE_MOUNTS = {"run": "/run/libvirt", "lib": "/var/lib/libvirt", "cache": "/var/cache/libvirt",
                  "log": "/var/log/libvirt", "etc": "/etc/libvirt"}  # fmt: skip


class HostDaemonError(RuntimeError):
    """A daemon could not be started; the message names it and quotes its log."""


def _run_dir(state_dir: Path) -> Path:
    path = Path(state_dir) / "run"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _answers(sock: Path) -> bool:
    if not sock.exists():
        return False
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(2)
        try:
            s.connect(str(sock))
        except OSError:
            return False
    return True


def _alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return None
    return pid


def _start(name: str, cmd: list[str], run_dir: Path, sock: Path) -> None:
    """Start ``cmd`` in the foreground of a new session, record its pid, wait until ``sock`` answers."""
    if shutil.which(cmd[0]) is None:
        raise HostDaemonError(f"{cmd[0]} is not installed (apt-get install libvirt-daemon-system qemu-system-x86)")
    log = run_dir / f"{name}.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True)
    (run_dir / f"{name}.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + START_TIMEOUT
    while not _answers(sock):
        if proc.poll() is not None or time.monotonic() > deadline:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            if proc.poll() is None:
                proc.kill()
            raise HostDaemonError(f"{name} did not start (exit code {proc.poll()}): " + " | ".join(tail))
        time.sleep(0.1)  # waiting for the daemon's socket, bounded by the deadline
    LOG.info("started %s (pid %d)", name, proc.pid)


def ensure_libvirt(state_dir: Path, *, private: bool = False, listen_address: str | None = None) -> str:
    """Make sure a libvirtd (and, for the system one, virtlogd) runs; returns the URI to reach it. Idempotent.

    ``listen_address`` (private only): the libvirtd also listens on TCP there (live migration); None: not at all.
    """
    run_dir = _run_dir(Path(state_dir))
    if listen_address and not private:
        raise HostDaemonError("only a private libvirtd can be made to listen on TCP (libvirt_listen_address)")
    if private:
        return _ensure_private(Path(state_dir), run_dir, listen_address or None)
    if not _answers(SYSTEM_RUN / "virtlogd-sock"):
        _start("virtlogd", ["virtlogd", "-p", str(run_dir / "virtlogd.daemon.pid")], run_dir,
               SYSTEM_RUN / "virtlogd-sock")  # fmt: skip
    if not _answers(SYSTEM_RUN / "libvirt-sock"):
        _start("libvirtd", ["libvirtd", "-p", str(run_dir / "libvirtd.daemon.pid")], run_dir,
               SYSTEM_RUN / "libvirt-sock")  # fmt: skip
    return "qemu:///system"


def private_boot_id_file(state_dir: Path) -> Path:
    """A new id each time the private libvirtd starts: its guests' "host boot" (the libvirt driver starts
    again the guests that were running when the cloud stopped, as it does after a machine reboot)."""
    return Path(state_dir).absolute() / "libvirt" / "boot-id"


def private_uri(state_dir: Path) -> str:
    return f"qemu+unix:///system?socket={Path(state_dir).absolute() / 'libvirt' / 'run' / 'libvirt-sock'}"


def _ensure_private(state_dir: Path, run_dir: Path, listen_address: str | None = None) -> str:
    root = state_dir.absolute() / "libvirt"
    sock = root / "run" / "libvirt-sock"
    if _alive(run_dir / "libvirtd.pid") and _answers(sock):
        return private_uri(state_dir)
    for sub in PRIVATE_MOUNTS:
        (root / sub).mkdir(parents=True, exist_ok=True)
    if not (root / "etc" / "libvirtd.conf").exists() and Path("/etc/libvirt").is_dir():
        shutil.copytree("/etc/libvirt", root / "etc", dirs_exist_ok=True)
    qemu_conf = PRIVATE_QEMU_CONF
    listen = ""
    if listen_address:
        (root / "etc" / "libvirtd.conf").write_text(
            PRIVATE_LIBVIRTD_TCP_CONF.format(address=listen_address, port=LIBVIRT_TCP_PORT)
        )
        qemu_conf += PRIVATE_QEMU_MIGRATION_CONF.format(address=listen_address)
        listen = " --listen"
    (root / "etc" / "qemu.conf").write_text(qemu_conf)
    mounts = " && ".join(f"mkdir -p {target} && mount --bind {root / sub} {target}"
                         for sub, target in PRIVATE_MOUNTS.items())  # fmt: skip
    script = f"{mounts} && exec libvirtd{listen} -p {run_dir / 'libvirtd.daemon.pid'}"
    # unshare execs sh, which execs libvirtd: the recorded pid is libvirtd's own.
    _start("libvirtd", ["unshare", "--mount", "--propagation", "private", "sh", "-c", script], run_dir, sock)
    private_boot_id_file(state_dir).write_text(f"{uuid.uuid4()}\n")
    return private_uri(state_dir)


def destroy_private_domains(state_dir: Path, *, undefine: bool = True) -> list[str]:
    """Stop (and undefine) every domain of ``state_dir``'s private libvirtd (QEMU outlives libvirtd otherwise)."""
    import libvirt

    names = []
    try:
        conn = libvirt.open(private_uri(state_dir))
    except libvirt.libvirtError:
        return names
    try:
        for dom in conn.listAllDomains(0):
            names.append(dom.name())
            if dom.isActive():
                dom.destroy()
            if undefine:
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)
    finally:
        conn.close()
    return names


def stop_libvirt(state_dir: Path, timeout: float = 20.0, *, keep_domains: bool = False) -> None:
    """SIGTERM the daemons this module started for ``state_dir`` (by their recorded pids), SIGKILL if they linger.

    A private libvirtd's guests are stopped first (and undefined unless ``keep_domains``: ``stratus down``
    keeps them, so the next start boots again those that were running); the system libvirtd's are left alone.
    """
    run_dir = Path(state_dir) / "run"
    if _alive(run_dir / "libvirtd.pid") and (Path(state_dir) / "libvirt" / "run").is_dir():
        destroy_private_domains(state_dir, undefine=not keep_domains)
    for name in DAEMONS:
        pid_file = run_dir / f"{name}.pid"
        pid = _alive(pid_file)
        if pid is None:
            pid_file.unlink(missing_ok=True)
            continue
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while _alive(pid_file) and time.monotonic() < deadline:
            _reap(pid)
            time.sleep(0.1)  # waiting for the daemon to exit, bounded by the deadline
        if _alive(pid_file):
            os.kill(pid, signal.SIGKILL)
        _reap(pid)
        pid_file.unlink(missing_ok=True)


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
