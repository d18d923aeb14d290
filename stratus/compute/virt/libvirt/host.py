"""Facts about the real host: its size for the scheduler, and which accelerator really boots a guest.

``virt_type = auto`` picks KVM only when all three hold: ``/dev/kvm`` opens read-write, the CPU
advertises hardware virtualisation (``vmx``/``svm``), and a probe guest (a 512-byte boot sector
that writes one byte to the serial port) runs under ``-accel kvm`` within a few seconds. Some
machines (nested clouds) expose a ``/dev/kvm`` that opens but crawls or hangs on a real guest;
the flags and the probe catch those, and the choice is logged with its reason.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

LOG = logging.getLogger(__name__)

QEMU_BINARY = "qemu-system-x86_64"
PROBE_MARKER = b"K"
# mov dx,0x3f8; mov al,'K'; out dx,al; cli; hlt; jmp $-1 -- then the boot signature.
_PROBE_CODE = bytes([0xBA, 0xF8, 0x03, 0xB0, 0x4B, 0xEE, 0xFA, 0xF4, 0xEB, 0xFD])
PROBE_SECTOR = _PROBE_CODE + bytes(510 - len(_PROBE_CODE)) + b"\x55\xaa"


@dataclass(frozen=True)
class HostFacts:
    vcpus: int
    memory_mb: int
    disk_gb: int
    cpu_vendor: str
    cpu_model: str
    cpu_flags: frozenset[str]


def _cpuinfo() -> dict[str, str]:
    fields: dict[str, str] = {}
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return fields
    for line in text.splitlines():
        if not line.strip():
            break  # the first processor is enough
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    return fields


def _memtotal_mb(meminfo: str) -> int:
    for line in meminfo.splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) // 1024
    raise ValueError("no MemTotal in /proc/meminfo")


def host_facts(state_dir: Path) -> HostFacts:
    """CPU count, RAM and the size of the filesystem holding ``state_dir`` (where instance disks live)."""
    cpu = _cpuinfo()
    state_dir.mkdir(parents=True, exist_ok=True)
    return HostFacts(
        vcpus=os.cpu_count() or 1,
        memory_mb=_memtotal_mb(Path("/proc/meminfo").read_text()),
        disk_gb=shutil.disk_usage(state_dir).total // 1024**3,
        cpu_vendor=cpu.get("vendor_id", "unknown"),
        cpu_model=cpu.get("model name", "unknown"),
        cpu_flags=frozenset(cpu.get("flags", "").split()),
    )


def _kvm_opens(device: Path) -> str | None:
    """None if ``device`` opens read-write, else why not."""
    try:
        fd = os.open(device, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        return f"{device} cannot be opened ({exc.strerror})"
    os.close(fd)
    return None


def probe_accel(accel: str, timeout: float = 4.0) -> str | None:
    """Boot the probe sector under ``-accel <accel>``; None if it printed its marker within ``timeout``, else why."""
    if shutil.which(QEMU_BINARY) is None:
        return f"{QEMU_BINARY} is not installed"
    with tempfile.TemporaryDirectory(prefix="stratus-kvm-probe-") as tmp:
        image, out = Path(tmp) / "probe.img", Path(tmp) / "serial.out"
        image.write_bytes(PROBE_SECTOR)
        cmd = [
            QEMU_BINARY, "-accel", accel, "-machine", "pc", "-m", "16", "-nodefaults", "-display", "none",
            "-no-reboot", "-monitor", "none", "-serial", f"file:{out}", "-drive", f"file={image},format=raw,if=ide",
        ]  # fmt: skip
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline and proc.poll() is None:
                if out.exists() and PROBE_MARKER in out.read_bytes():
                    return None
                time.sleep(0.05)  # polling a file QEMU writes, bounded by the deadline
            if proc.poll() is not None:
                err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace").strip()
                return f"the {accel} probe guest exited with {proc.returncode}: {err.splitlines()[-1] if err else ''}"
            return f"the {accel} probe guest did not run within {timeout:.0f} s"
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stderr:
                proc.stderr.close()


def choose_virt_type(
    requested: str, *, kvm_device: Path = Path("/dev/kvm"), flags: frozenset[str] | None = None
) -> str:
    """'kvm' or 'qemu' for ``requested`` ('auto', 'kvm', 'qemu'); 'auto' decides as the module docstring says."""
    if requested in ("kvm", "qemu"):
        LOG.info("virt_type %s (configured)", requested)
        return requested
    if requested != "auto":
        raise ValueError(f"virt_type must be auto, kvm or qemu, not {requested!r}")
    flags = frozenset(_cpuinfo().get("flags", "").split()) if flags is None else flags
    reason = _kvm_opens(kvm_device)
    if reason is None and not flags & {"vmx", "svm"}:
        reason = "the CPU advertises neither vmx nor svm"
    if reason is None:
        reason = probe_accel("kvm")
    if reason is None:
        LOG.info("virt_type auto: using KVM (%s opens, the CPU has %s, a probe guest ran)", kvm_device,
                 "vmx" if "vmx" in flags else "svm")  # fmt: skip
        return "kvm"
    LOG.info("virt_type auto: using QEMU TCG because %s", reason)
    return "qemu"
