"""Build the CirrOS-like Stratus test VM disk image from Debian packages only.

The image is a qcow2 disk: an MBR (syslinux mbr.bin) and one bootable FAT16 partition holding syslinux, the Debian
cloud kernel and a busybox initramfs. Everything is done on plain files (mkfs.vfat, mtools, sfdisk, qemu-img):
no loop device and no mount, so the build needs neither privileges nor network.
"""

from __future__ import annotations

import gzip
import lzma
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from stratus.image.testvm.initramfs import (
    Entry,
    gzip_reproducible,
    is_static_elf,
    kernel_version_key,
    load_order,
    newc_archive,
    parse_modules_dep,
)

Progress = Callable[[str, float], None]

#: Modules the guest needs: virtio PCI transport, NIC, disk; ACPI power button (+ evdev for busybox acpid).
GUEST_MODULES = ("virtio_pci", "virtio_net", "virtio_blk", "button", "evdev")
KERNEL_CMDLINE = "console=ttyS0 quiet"
FAT_LABEL = "STRATUSVM"
#: Fixed timestamp (2020-01-01) for files in the FAT partition; FAT cannot store dates before 1980.
FIXED_MTIME = 1577836800
#: Fixed MBR disk identifier (sfdisk would pick a random one).
DISK_LABEL_ID = "0x5745d0a1"
BOOT_DIR = Path("/boot")
MODULES_DIR = Path("/lib/modules")
BUSYBOX = Path("/bin/busybox")
SYSLINUX_MBR = Path("/usr/lib/syslinux/mbr/mbr.bin")
SYSLINUX_CFG = f"""SERIAL 0 115200
DEFAULT linux
TIMEOUT 0
PROMPT 0
LABEL linux
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND {KERNEL_CMDLINE}
"""
#: Host tool -> Debian package providing it.
TOOLS = {
    "mkfs.vfat": "dosfstools",
    "mcopy": "mtools",
    "syslinux": "syslinux",
    "sfdisk": "fdisk",
    "qemu-img": "qemu-utils",
}


class ImageBuildError(RuntimeError):
    """The test VM image cannot be built (typically a missing Debian package)."""


@dataclass(frozen=True)
class Kernel:
    version: str
    vmlinuz: Path
    modules: Path


def _missing(what: str, package: str) -> ImageBuildError:
    return ImageBuildError(f"{what} not found: install the Debian package {package} (apt-get install {package})")


def find_kernel(boot_dir: Path = BOOT_DIR, modules_dir: Path = MODULES_DIR) -> Kernel:
    """The newest Debian cloud kernel that has its modules installed."""
    candidates = []
    for vmlinuz in boot_dir.glob("vmlinuz-*-cloud-amd64"):
        version = vmlinuz.name.removeprefix("vmlinuz-")
        if (modules_dir / version / "modules.dep").is_file():
            candidates.append(Kernel(version, vmlinuz, modules_dir / version))
    if not candidates:
        raise _missing(
            f"Debian cloud kernel ({boot_dir}/vmlinuz-*-cloud-amd64 with modules)", "linux-image-cloud-amd64"
        )
    return max(candidates, key=lambda k: kernel_version_key(k.version))


def check_host(busybox: Path = BUSYBOX) -> None:
    """Fail early, naming the Debian package, when a tool or file of the build is missing."""
    for tool, package in TOOLS.items():
        if shutil.which(tool) is None:
            raise _missing(f"command {tool}", package)
    if not SYSLINUX_MBR.is_file():
        raise _missing(str(SYSLINUX_MBR), "syslinux-common")
    if not busybox.is_file() or not is_static_elf(busybox.read_bytes()):
        raise _missing(f"static busybox ({busybox})", "busybox-static")


def read_module(path: Path) -> bytes:
    """A kernel module's bytes, decompressed if the kernel ships .ko.xz/.ko.zst/.ko.gz."""
    if path.suffix == ".xz":
        return lzma.decompress(path.read_bytes())
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes())
    if path.suffix == ".zst":
        if shutil.which("zstd") is None:
            raise _missing(f"zstd (to decompress {path.name})", "zstd")
        return _run(["zstd", "-dcq", str(path)]).stdout
    return path.read_bytes()


def _run(
    cmd: list[str], *, stdin: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, input=stdin, capture_output=True, check=True, env=env)
    except subprocess.CalledProcessError as exc:
        err = exc.stderr.decode(errors="replace").strip()
        raise ImageBuildError(f"{' '.join(cmd)} failed (rc={exc.returncode}): {err}") from exc


def _guest_file(name: str) -> bytes:
    return resources.files("stratus.image.testvm").joinpath("guest").joinpath(name).read_bytes()


def _acpi_entries() -> list[Entry]:
    """busybox acpid maps the power button to `PWRF` and runs /etc/acpi/power.sh (marker, then poweroff)."""
    power = (
        b"#!/bin/sh\n"
        b'printf "\\nSTRATUS-TESTVM-POWEROFF\\n" >/dev/console\n'  # leading newline: the prompt has none
        b"sync\n"
        b"poweroff -f\n"
    )
    return [
        Entry("etc/acpi", 0o755),
        Entry("etc/acpi/power.sh", 0o755, power),
        Entry("etc/acpid.conf", 0o644, b"PWRF power.sh\n"),
    ]


def initramfs_entries(kernel: Kernel, busybox: Path = BUSYBOX) -> list[Entry]:
    """All files of the guest initramfs: busybox, /init, the udhcpc hook, config and the kernel modules."""
    deps = parse_modules_dep((kernel.modules / "modules.dep").read_text())
    order = load_order(deps, GUEST_MODULES)
    dirs = ["bin", "sbin", "usr", "usr/bin", "usr/sbin", "usr/share", "usr/share/udhcpc", "etc", "lib"]
    dirs += ["lib/modules", "proc", "sys", "dev", "tmp", "run", "root", "var", "var/log", "www"]
    entries = [Entry(d, 0o755) for d in dirs]
    entries += [
        Entry("bin/busybox", 0o755, busybox.read_bytes()),
        Entry("bin/sh", 0o777, target="busybox"),
        Entry("init", 0o755, _guest_file("init.sh")),
        Entry("usr/share/udhcpc/default.script", 0o755, _guest_file("udhcpc.sh")),
        Entry("etc/modules.order", 0o644, ("\n".join(order) + "\n").encode()),
        Entry("etc/passwd", 0o644, b"root::0:0:root:/root:/bin/sh\n"),
        Entry("etc/group", 0o644, b"root:x:0:\n"),
        Entry("etc/profile", 0o644, b'export PS1="$(hostname)# "\nexport PATH=/bin:/sbin:/usr/bin:/usr/sbin\n'),
    ]
    entries += _acpi_entries()
    for name in order:
        entries.append(Entry(f"lib/modules/{name}.ko", 0o644, read_module(kernel.modules / deps[name][0])))
    return entries


def _fat_partition(path: Path, files: dict[str, Path], size_mib: int) -> None:
    """A FAT16 partition image with `files` in its root and syslinux installed, built with mtools only."""
    with path.open("wb") as f:
        f.truncate(size_mib * 1024 * 1024)
    _run(["mkfs.vfat", "--invariant", "-i", "5354524d", "-n", FAT_LABEL, str(path)])
    env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "SOURCE_DATE_EPOCH": str(FIXED_MTIME)}
    for name, src in sorted(files.items()):
        _run(["mcopy", "-m", "-o", "-i", str(path), str(src), f"::/{name}"], env=env)
    _run(["syslinux", "--install", str(path)], env=env)


def _disk(path: Path, partition: Path, mbr: bytes) -> None:
    """Raw disk = MBR boot code + one bootable FAT16 (type 0x0e) partition at 1 MiB."""
    part_size = partition.stat().st_size
    with path.open("wb") as f:
        f.truncate(1024 * 1024 + part_size)
    table = f"label: dos\nlabel-id: {DISK_LABEL_ID}\nstart=2048, type=e, bootable\n"
    _run(["sfdisk", "--no-reread", "--no-tell-kernel", "-q", str(path)], stdin=table.encode())
    with path.open("r+b") as f:
        f.write(mbr[:440])  # boot code only: keep sfdisk's disk id and partition table
        f.seek(1024 * 1024)
        with partition.open("rb") as src:
            shutil.copyfileobj(src, f, 1024 * 1024)


def _partition_size_mib(*files: Path) -> int:
    """Room for the files plus 4 MiB (syslinux, FAT tables), rounded up to 8 MiB, at least 32 MiB (FAT16)."""
    need = sum(f.stat().st_size for f in files) / (1024 * 1024) + 4
    return max(32, -(-int(need) // 8) * 8)


def _report(progress: Progress | None, step: str, fraction: float) -> None:
    if progress is not None:
        progress(step, fraction)


def _stage_boot_files(tmp: Path, kernel: Kernel) -> dict[str, Path]:
    """vmlinuz, initrd.gz and syslinux.cfg in `tmp`, with a fixed mtime (they end up in the FAT partition)."""
    initrd = tmp / "initrd.gz"
    initrd.write_bytes(gzip_reproducible(newc_archive(initramfs_entries(kernel))))
    vmlinuz, cfg = tmp / "vmlinuz", tmp / "syslinux.cfg"
    shutil.copyfile(kernel.vmlinuz, vmlinuz)
    cfg.write_text(SYSLINUX_CFG)
    files = {"vmlinuz": vmlinuz, "initrd.gz": initrd, "syslinux.cfg": cfg}
    for f in files.values():
        os.utime(f, (FIXED_MTIME, FIXED_MTIME))
    return files


def _install(image: Path, output: Path) -> None:
    """Atomically replace `output` (the partial copy lives in the same directory, so rename is atomic)."""
    partial = output.with_name(f".{output.name}.partial")
    try:
        shutil.move(image, partial)
        os.chmod(partial, 0o644)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)


def build_testvm(output: Path, *, work_dir: Path | None = None, progress: Progress | None = None) -> Path:
    """Build the test VM qcow2 at `output` (atomically replaced) and return its path.

    Reproducible: the same Debian packages give a byte-identical image. `work_dir` holds the temporary files
    (default: next to `output`); `progress(step, fraction)` is called as the build advances.
    """
    output = Path(output).absolute()
    _report(progress, "checking host packages", 0.0)
    check_host()
    kernel = find_kernel()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="testvm-", dir=work_dir or output.parent) as tmp_name:
        tmp = Path(tmp_name)
        _report(progress, f"initramfs (kernel {kernel.version})", 0.1)
        files = _stage_boot_files(tmp, kernel)
        _report(progress, "FAT partition with syslinux", 0.4)
        part = tmp / "part.fat"
        _fat_partition(part, files, _partition_size_mib(files["vmlinuz"], files["initrd.gz"]))
        _report(progress, "disk image", 0.6)
        raw = tmp / "disk.raw"
        _disk(raw, part, SYSLINUX_MBR.read_bytes())
        _report(progress, "qcow2 conversion", 0.7)
        qcow2 = tmp / "disk.qcow2"
        _run(["qemu-img", "convert", "-f", "raw", "-O", "qcow2", "-c", str(raw), str(qcow2)])
        _install(qcow2, output)
    _report(progress, "done", 1.0)
    return output
