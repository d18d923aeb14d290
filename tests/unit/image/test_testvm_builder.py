"""Pure logic of the test VM build: module order, cpio archive, static-ELF check, host checks."""

from __future__ import annotations

import gzip
import lzma
import struct
from pathlib import Path

import pytest

from stratus.image.testvm import builder
from stratus.image.testvm.initramfs import (
    Entry,
    gzip_reproducible,
    is_static_elf,
    kernel_version_key,
    load_order,
    module_name,
    newc_archive,
    parse_modules_dep,
)

MODULES_DEP = """\
kernel/drivers/virtio/virtio.ko: kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/virtio/virtio_ring.ko:
kernel/drivers/virtio/virtio_pci_modern_dev.ko:
kernel/drivers/virtio/virtio_pci_legacy_dev.ko:
kernel/drivers/virtio/virtio_pci.ko: kernel/drivers/virtio/virtio_pci_legacy_dev.ko \
kernel/drivers/virtio/virtio_pci_modern_dev.ko kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/net/virtio_net.ko.xz: kernel/drivers/net/net_failover.ko.xz kernel/net/core/failover.ko.zst \
kernel/drivers/virtio/virtio.ko kernel/drivers/virtio/virtio_ring.ko
kernel/drivers/net/net_failover.ko.xz: kernel/net/core/failover.ko.zst
kernel/net/core/failover.ko.zst:
kernel/drivers/acpi/button.ko:
"""


def test_module_name_strips_directory_and_compression() -> None:
    assert module_name("kernel/drivers/net/virtio_net.ko.xz") == "virtio_net"
    assert module_name("kernel/net/core/failover.ko.zst") == "failover"
    assert module_name("kernel/drivers/acpi/button.ko") == "button"


def test_load_order_puts_dependencies_first_once() -> None:
    deps = parse_modules_dep(MODULES_DEP)
    assert deps["virtio_net"][0] == "kernel/drivers/net/virtio_net.ko.xz"
    order = load_order(deps, ["virtio_pci", "virtio_net", "button"])
    assert order == [
        "virtio_ring",
        "virtio",
        "virtio_pci_modern_dev",
        "virtio_pci_legacy_dev",
        "virtio_pci",
        "failover",
        "net_failover",
        "virtio_net",
        "button",
    ]


def test_load_order_unknown_module() -> None:
    with pytest.raises(KeyError, match="evdev"):
        load_order(parse_modules_dep(MODULES_DEP), ["evdev"])


def test_kernel_version_key_is_numeric() -> None:
    versions = ["6.1.0-9-cloud-amd64", "6.1.0-56-cloud-amd64", "6.12.1-1-cloud-amd64"]
    assert max(versions, key=kernel_version_key) == "6.12.1-1-cloud-amd64"
    assert sorted(versions, key=kernel_version_key)[0] == "6.1.0-9-cloud-amd64"


def _parse_newc(data: bytes) -> dict[str, tuple[int, bytes]]:
    members, pos = {}, 0
    while True:
        assert data[pos : pos + 6] == b"070701"
        fields = [int(data[pos + 6 + 8 * i : pos + 14 + 8 * i], 16) for i in range(13)]
        namesize, size = fields[11], fields[6]
        name = data[pos + 110 : pos + 110 + namesize - 1].decode()
        pos = (pos + 110 + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return members
        members[name] = (fields[1], data[pos : pos + size])
        pos = (pos + size + 3) & ~3


def test_newc_archive_round_trip_and_reproducible() -> None:
    entries = [Entry("init", 0o755, b"#!/bin/sh\n"), Entry("bin", 0o755), Entry("bin/sh", 0o777, target="busybox")]
    archive = newc_archive(entries)
    assert archive == newc_archive(reversed(entries))
    assert len(archive) % 4 == 0
    members = _parse_newc(archive)
    assert list(members) == ["bin", "bin/sh", "init"]
    assert members["init"] == (0o100755, b"#!/bin/sh\n")
    assert members["bin/sh"] == (0o120777, b"busybox")
    assert members["bin"][0] == 0o040755
    assert gzip_reproducible(archive) == gzip_reproducible(archive)
    assert gzip.decompress(gzip_reproducible(archive)) == archive


def _elf(with_interp: bool) -> bytes:
    header = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9)  # e_ident: 64-bit, little-endian
    header += struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, 0, 64, 0, 0, 64, 56, 2, 64, 0, 0)  # program headers at 64
    load = struct.pack("<IIQQQQQQ", 1, 5, 0, 0, 0, 0, 0, 0)
    second = struct.pack("<IIQQQQQQ", 3 if with_interp else 4, 4, 0, 0, 0, 0, 0, 0)
    return header + load + second


def test_is_static_elf() -> None:
    assert is_static_elf(_elf(with_interp=False))
    assert not is_static_elf(_elf(with_interp=True))
    assert not is_static_elf(b"#!/bin/sh\n")


def test_read_module_decompresses_xz(tmp_path: Path) -> None:
    ko = tmp_path / "m.ko.xz"
    ko.write_bytes(lzma.compress(b"\x7fELF module"))
    assert builder.read_module(ko) == b"\x7fELF module"


def test_find_kernel_picks_newest_with_modules(tmp_path: Path) -> None:
    boot, mods = tmp_path / "boot", tmp_path / "modules"
    for version in ("6.1.0-9-cloud-amd64", "6.1.0-56-cloud-amd64", "6.1.0-60-cloud-amd64"):
        (boot / f"vmlinuz-{version}").parent.mkdir(exist_ok=True)
        (boot / f"vmlinuz-{version}").write_bytes(b"k")
    for version in ("6.1.0-9-cloud-amd64", "6.1.0-56-cloud-amd64"):  # -60 has no modules: skipped
        (mods / version).mkdir(parents=True)
        (mods / version / "modules.dep").write_text("")
    assert builder.find_kernel(boot, mods).version == "6.1.0-56-cloud-amd64"


def test_find_kernel_names_the_debian_package(tmp_path: Path) -> None:
    with pytest.raises(builder.ImageBuildError, match="linux-image-cloud-amd64"):
        builder.find_kernel(tmp_path, tmp_path)


def test_check_host_names_busybox_static(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder.shutil, "which", lambda tool: f"/usr/bin/{tool}")
    monkeypatch.setattr(builder, "SYSLINUX_MBR", Path(__file__))
    dynamic = tmp_path / "busybox"
    dynamic.write_bytes(_elf(with_interp=True))
    with pytest.raises(builder.ImageBuildError, match="busybox-static"):
        builder.check_host(dynamic)


def test_check_host_names_the_tool_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(builder.shutil, "which", lambda tool: None if tool == "mcopy" else tool)
    with pytest.raises(builder.ImageBuildError, match="mtools"):
        builder.check_host()
