"""Host facts and the honest virt_type choice."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from stratus.compute.virt.libvirt import host


def test_memtotal() -> None:
    assert host._memtotal_mb("MemFree: 1 kB\nMemTotal:       24683544 kB\n") == 24683544 // 1024


def test_host_facts_real_host(tmp_path: Path) -> None:
    facts = host.host_facts(tmp_path / "state")
    assert facts.vcpus >= 1 and facts.memory_mb > 0 and facts.disk_gb >= 0


def test_probe_sector_is_a_boot_sector() -> None:
    assert len(host.PROBE_SECTOR) == 512 and host.PROBE_SECTOR.endswith(b"\x55\xaa")


def test_explicit_virt_type_is_used() -> None:
    assert host.choose_virt_type("qemu") == "qemu"
    assert host.choose_virt_type("kvm") == "kvm"
    with pytest.raises(ValueError):
        host.choose_virt_type("xen")


def test_auto_without_kvm_device(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    assert host.choose_virt_type("auto", kvm_device=tmp_path / "nokvm", flags=frozenset({"vmx"})) == "qemu"
    assert "cannot be opened" in caplog.text


def test_auto_without_cpu_flags(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    device = tmp_path / "kvm"
    device.write_bytes(b"")
    assert host.choose_virt_type("auto", kvm_device=device, flags=frozenset({"sse2"})) == "qemu"
    assert "neither vmx nor svm" in caplog.text


def test_auto_trusts_only_a_probe_that_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    device = tmp_path / "kvm"
    device.write_bytes(b"")
    monkeypatch.setattr(host, "probe_accel", lambda accel, timeout=4.0: "the kvm probe guest did not run within 4 s")
    assert host.choose_virt_type("auto", kvm_device=device, flags=frozenset({"svm"})) == "qemu"
    monkeypatch.setattr(host, "probe_accel", lambda accel, timeout=4.0: None)
    assert host.choose_virt_type("auto", kvm_device=device, flags=frozenset({"svm"})) == "kvm"
