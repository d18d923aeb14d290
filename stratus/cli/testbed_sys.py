"""The machine-level calls of the test bed: links and namespaces, PostgreSQL, RabbitMQ, processes by pid.

Every removal is idempotent (a missing thing is not an error), so ``down`` can run again after any failure.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import psutil

LOG = logging.getLogger(__name__)
POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
NETNS_DIR = Path("/run/netns")
DB_NAME = re.compile(r"^[a-z0-9_]{1,63}$")


class TestbedError(RuntimeError):
    """A step of the test bed failed; the message quotes the command and its error."""


def run(*argv: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise TestbedError(f"{argv[0]} is not installed (bash scripts/install-debs.sh)") from None
    if check and done.returncode != 0:
        raise TestbedError(f"{' '.join(argv)} failed (exit code {done.returncode}): {done.stderr.strip()}")
    return done


# --- addresses in use, links, namespaces


def networks_in_use() -> list[str]:
    """CIDRs of the root namespace's IPv4 addresses and routes (a test bed's subnets must not overlap them)."""
    found = []
    for line in run("ip", "-4", "-o", "addr", "show").stdout.splitlines():
        words = line.split()
        if "inet" in words:
            found.append(words[words.index("inet") + 1])
    for line in run("ip", "-4", "route", "show", "table", "all").stdout.splitlines():
        words = line.split()
        if words and words[0] not in ("default", "broadcast", "local", "unreachable", "blackhole", "prohibit"):
            found.append(words[0])
    return found


def link_exists(dev: str, netns: str | None = None) -> bool:
    ns = ["-n", netns] if netns else []
    return run("ip", *ns, "link", "show", "dev", dev, check=False).returncode == 0


def delete_link(dev: str) -> bool:
    """Delete a root-namespace link (a veth takes its peer along); False if there was none."""
    if not link_exists(dev):
        return False
    done = run("ip", "link", "del", "dev", dev, check=False)
    if done.returncode != 0 and link_exists(dev):  # else its namespace's deletion just took it (veth peer)
        raise TestbedError(f"ip link del dev {dev} failed (exit code {done.returncode}): {done.stderr.strip()}")
    return done.returncode == 0


def offload_off(dev: str, netns: str | None = None) -> None:
    """``ethtool -K <dev> tx off``: OVS's userspace datapath forwards partial checksums of veths unfilled."""
    prefix = ["ip", "netns", "exec", netns] if netns else []
    run(*prefix, "ethtool", "-K", dev, "tx", "off")


def make_bridge(name: str, cidr: str) -> None:
    """A Linux bridge with ``cidr``; bridge netfilter off on it alone (guest traffic must not meet iptables)."""
    run("ip", "link", "add", name, "type", "bridge", "nf_call_iptables", "0", "nf_call_ip6tables", "0",
        "nf_call_arptables", "0")  # fmt: skip
    run("ip", "addr", "add", cidr, "dev", name)
    run("ip", "link", "set", name, "up")


def make_namespace(name: str) -> None:
    run("ip", "netns", "add", name)
    run("ip", "-n", name, "link", "set", "lo", "up")


def veth_into(root_dev: str, netns: str, inner_dev: str, *, master: str | None = None, cidr: str | None = None) -> None:
    """veth ``root_dev`` (root namespace, on ``master`` or holding ``cidr``) <-> ``inner_dev`` in ``netns``, both
    up with checksum offload off; the inner end gets no address (the host's OVS bridge takes it)."""
    run("ip", "link", "add", root_dev, "type", "veth", "peer", "name", inner_dev, "netns", netns)
    if master:
        run("ip", "link", "set", root_dev, "master", master)
    if cidr:
        run("ip", "addr", "add", cidr, "dev", root_dev)
    offload_off(root_dev)
    offload_off(inner_dev, netns)
    run("ip", "link", "set", root_dev, "up")
    run("ip", "-n", netns, "link", "set", inner_dev, "up")


def namespace_exists(name: str) -> bool:
    return (NETNS_DIR / name).exists()


def namespace_pids(name: str) -> list[int]:
    if not namespace_exists(name):
        return []
    out = run("ip", "netns", "pids", name, check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def delete_namespace(name: str) -> bool:
    """Kill what still runs in ``name`` (by the pids the kernel lists for it), then delete it; False if absent."""
    if not namespace_exists(name):
        return False
    kill_pids(namespace_pids(name))
    run("ip", "netns", "delete", name)
    return True


# --- processes


def spawn(argv: Sequence[str], log: Path, env: dict[str, str] | None = None) -> int:
    """Start ``argv`` in the foreground of its own session, output appended to ``log``; returns its pid."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        proc = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True, env=env)  # fmt: skip
    return proc.pid


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def stop_pid(pid: int, timeout: float = 60.0, *, group: bool = False) -> bool:
    """SIGTERM ``pid`` (its whole process group with ``group``), SIGKILL after ``timeout``; True if it was alive."""
    if not alive(pid):
        _reap(pid)
        return False
    send = os.killpg if group else os.kill
    with contextlib.suppress(ProcessLookupError):
        send(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        with contextlib.suppress(psutil.NoSuchProcess, psutil.TimeoutExpired):
            psutil.Process(pid).wait(0.2)  # returns as soon as it exits
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            send(pid, signal.SIGKILL)
    _reap(pid)
    return True


def kill_pids(pids: Iterable[int]) -> None:
    """SIGKILL leftovers (a crashed test bed's daemons); they have no state worth a clean exit any more."""
    for pid in pids:
        if pid != os.getpid():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    for pid in pids:
        _reap(pid)


def pids_naming(path: Path) -> list[int]:
    """Processes whose command line names ``path`` (a test bed's own, unique directory)."""
    needle = str(path)
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if proc.info["pid"] != os.getpid() and any(needle in part for part in cmdline):
            found.append(int(proc.info["pid"]))
    return found


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


# --- PostgreSQL and RabbitMQ


def _check_db_name(name: str) -> str:
    if not DB_NAME.match(name):
        raise ValueError(f"invalid database name {name!r}")
    return name


def create_databases(names: Iterable[str], admin_url: str = POSTGRES_ADMIN_URL) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True, connect_timeout=10) as conn:
        for name in names:
            conn.execute(f'CREATE DATABASE "{_check_db_name(name)}"')


def drop_databases(names: Iterable[str], admin_url: str = POSTGRES_ADMIN_URL) -> list[str]:
    """Drop the databases that exist (closing their connections); returns those dropped."""
    import psycopg

    dropped = []
    try:
        conn = psycopg.connect(admin_url, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise TestbedError(f"cannot reach PostgreSQL at {admin_url} to drop the test bed's databases: {exc}") from None
    with conn:
        for name in names:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
            if exists:
                conn.execute(f'DROP DATABASE "{_check_db_name(name)}" WITH (FORCE)')
                dropped.append(name)
    return dropped


def vhosts() -> list[str]:
    return run("rabbitmqctl", "-q", "list_vhosts", "name", timeout=120).stdout.split()


def create_vhost(name: str) -> None:
    run("rabbitmqctl", "-q", "add_vhost", name, timeout=120)
    run("rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*", timeout=120)


def delete_vhost(name: str) -> bool:
    if name not in vhosts():
        return False
    run("rabbitmqctl", "-q", "delete_vhost", name, timeout=120)
    return True
