"""qemu-img, run as a subprocess: inspect, create overlays, convert and grow disk images.

Every failure raises DiskError carrying qemu-img's own message, so an instance fault says what
went wrong (a corrupt image, a full disk) rather than an exit code.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from stratus.compute.virt.base import DriverError

QEMU_IMG = "qemu-img"
TIMEOUT = 600.0


class DiskError(DriverError):
    """qemu-img refused or failed; the message is qemu-img's explanation."""


@dataclass(frozen=True)
class DiskInfo:
    format: str
    virtual_size: int
    actual_size: int
    backing_file: str | None = None


def _run(*args: str) -> str:
    try:
        proc = subprocess.run([QEMU_IMG, *args], capture_output=True, text=True, timeout=TIMEOUT)
    except FileNotFoundError:
        raise DiskError("qemu-img is not installed on this host") from None
    except subprocess.TimeoutExpired:
        raise DiskError(f"qemu-img {args[0]} did not finish in {TIMEOUT:.0f} s") from None
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        raise DiskError(f"qemu-img {args[0]} failed: {detail[-1] if detail else f'exit code {proc.returncode}'}")
    return proc.stdout


def info(path: Path, *, force_share: bool = False) -> DiskInfo:
    """Format and sizes of ``path`` as qemu-img probes them (``force_share`` reads an image QEMU holds open)."""
    args = ["info", "--output=json", *(["-U"] if force_share else []), str(path)]
    data = json.loads(_run(*args))
    return DiskInfo(
        format=str(data["format"]),
        virtual_size=int(data["virtual-size"]),
        actual_size=int(data.get("actual-size") or 0),
        backing_file=data.get("backing-filename"),
    )


def create_overlay(base: Path, base_format: str, dest: Path, size: int) -> None:
    """A qcow2 at ``dest`` of ``size`` bytes whose unwritten clusters read from ``base``."""
    _run("create", "-q", "-f", "qcow2", "-F", base_format, "-b", str(base), str(dest), str(size))


def convert(
    src: Path, dest: Path, out_format: str, *, src_format: str | None = None, force_share: bool = False
) -> None:
    """Copy ``src`` (with its backing chain, flattened) to a standalone image ``dest`` in ``out_format``."""
    args = ["convert", "-q", *(["-U"] if force_share else []), *(["-f", src_format] if src_format else [])]
    _run(*args, "-O", out_format, str(src), str(dest))


def rebase_unsafe(path: Path, base: Path, base_format: str) -> None:
    """Point the overlay ``path`` at ``base`` without reading anything: ``base`` holds the same data as the
    backing file it had (the same image, cached on another host)."""
    _run("rebase", "-q", "-u", "-f", "qcow2", "-F", base_format, "-b", str(base), str(path))


def grow(path: Path, size: int) -> None:
    """Grow ``path`` to ``size`` bytes (never shrinks: the caller checks first)."""
    _run("resize", "-q", str(path), str(size))
