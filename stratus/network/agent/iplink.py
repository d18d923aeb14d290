"""The few ``ip`` / ``ethtool`` calls the agent makes, optionally inside a network namespace."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable

Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]
IFNAME = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")


class IpError(RuntimeError):
    """An ``ip``/``ethtool`` command failed; the message quotes it and its stderr."""


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30)


def check_ifname(name: str) -> str:
    """A Linux interface name: 1-15 characters of letters, digits, ``_ . -``; ValueError otherwise."""
    if not IFNAME.match(name):
        raise ValueError(f"invalid interface name {name!r} (1-15 characters of A-Z a-z 0-9 _ . -)")
    return name


class IpLink:
    """``ip`` and ``ethtool`` in ``netns`` (None: this process' namespace). ``runner`` is for tests."""

    def __init__(self, netns: str | None = None, runner: Runner | None = None):
        self.netns = netns
        self._runner = runner or _run

    def _cmd(self, *argv: str) -> list[str]:
        if argv[0] == "ip" and self.netns:
            return ["ip", "-n", self.netns, *argv[1:]]
        return (["ip", "netns", "exec", self.netns] if self.netns else []) + list(argv)

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        cmd = self._cmd(*argv)
        try:
            done = self._runner(cmd)
        except FileNotFoundError:
            raise IpError(f"{cmd[0]} is not installed (bash scripts/install-debs.sh)") from None
        if check and done.returncode != 0:
            raise IpError(f"{' '.join(cmd)} failed (exit code {done.returncode}): {done.stderr.strip()}")
        return done

    def exists(self, dev: str) -> bool:
        return self.run("ip", "link", "show", "dev", dev, check=False).returncode == 0

    def add_tap(self, dev: str) -> None:
        """A persistent tap ``dev`` (nothing if a device of that name already exists)."""
        if self.exists(dev):
            return
        done = self.run("ip", "tuntap", "add", "dev", dev, "mode", "tap", check=False)
        if done.returncode != 0 and not self.exists(dev):  # lost a race with another creator: fine
            raise IpError(f"ip tuntap add dev {dev} mode tap failed: {done.stderr.strip()}")

    def set_up(self, dev: str, *, mtu: int | None = None) -> None:
        self.run("ip", "link", "set", "dev", dev, *(("mtu", str(mtu)) if mtu else ()), "up")

    def delete(self, dev: str) -> None:
        """Delete ``dev``; nothing if it does not exist."""
        done = self.run("ip", "link", "del", "dev", dev, check=False)
        if done.returncode != 0 and self.exists(dev):
            raise IpError(f"ip link del dev {dev} failed: {done.stderr.strip()}")

    def replace_address(self, cidr: str, dev: str) -> None:
        self.run("ip", "addr", "replace", cidr, "dev", dev)

    def has_address(self, ip: str) -> bool:
        out = self.run("ip", "-o", "addr", "show", check=False).stdout
        return any(word.split("/")[0] == ip for line in out.splitlines() for word in line.split())

    def checksum_offload_off(self, dev: str) -> None:
        """``ethtool -K <dev> tx off``: OVS's userspace datapath forwards partial checksums unfilled otherwise."""
        self.run("ethtool", "-K", dev, "tx", "off")
