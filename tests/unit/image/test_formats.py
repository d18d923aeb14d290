"""Disk format inspection: qcow2 header parsing and the upload rules, on real and synthetic headers."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stratus.image import formats


def qcow2_header(
    *, version: int = 3, backing: int = 0, size: int = 1 << 30, incompatible: int = 0, extensions: bytes = b""
) -> bytes:
    header = struct.pack(">4sIQIIQ", b"QFI\xfb", version, backing, 0, 16, size) + bytes(72 - 32)
    if version == 3:
        header += struct.pack(">QQQII", incompatible, 0, 0, 4, 112) + bytes(8)
    return header + extensions + struct.pack(">II", 0, 0)


def ext(kind: int, payload: bytes) -> bytes:
    return struct.pack(">II", kind, len(payload)) + payload + bytes(-len(payload) % 8)


def qemu_img(tmp_path: Path, name: str, *args: str) -> bytes:
    path = tmp_path / name
    subprocess.run(["qemu-img", "create", "-f", "qcow2", *args, str(path)], check=True, capture_output=True)
    return path.read_bytes()[: formats.HEAD_BYTES]


def test_parses_version_size_and_no_backing_file() -> None:
    parsed = formats.parse_qcow2(qcow2_header(size=12345 * 512))
    assert parsed is not None
    assert (parsed.version, parsed.size, parsed.has_backing_file, parsed.has_external_data_file) == (
        3,
        12345 * 512,
        False,
        False,
    )


def test_v2_header_has_no_feature_fields() -> None:
    parsed = formats.parse_qcow2(qcow2_header(version=2))
    assert parsed is not None and parsed.version == 2 and parsed.incompatible_features == 0


def test_backing_file_offset_is_detected() -> None:
    parsed = formats.parse_qcow2(qcow2_header(backing=0x200))
    assert parsed is not None and parsed.has_backing_file


def test_external_data_file_by_feature_bit_or_extension() -> None:
    by_bit = formats.parse_qcow2(qcow2_header(incompatible=formats.QCOW2_INCOMPAT_DATA_FILE))
    by_ext = formats.parse_qcow2(qcow2_header(extensions=ext(0xE2792ACA, b"raw") + ext(0x44415441, b"/etc/shadow")))
    other_ext = formats.parse_qcow2(qcow2_header(extensions=ext(0xE2792ACA, b"raw")))
    assert by_bit and by_bit.has_external_data_file
    assert by_ext and by_ext.has_external_data_file
    assert other_ext and not other_ext.has_external_data_file


@pytest.mark.parametrize("head", [b"", b"QFI\xfb", b"QFI\xfa" + bytes(200), qcow2_header(version=4)])
def test_not_qcow2(head: bytes) -> None:
    assert formats.parse_qcow2(head) is None


def test_real_qemu_img_files(tmp_path: Path) -> None:
    plain = qemu_img(tmp_path, "base.qcow2", "-o", "size=2G")
    base = tmp_path / "base.qcow2"
    top = qemu_img(tmp_path, "top.qcow2", "-b", str(base), "-F", "qcow2")
    data_file = qemu_img(tmp_path, "ext.qcow2", "-o", f"data_file={tmp_path / 'ext.raw'},size=64M")
    assert formats.verify("qcow2", plain, None, None) == 2 * 1024**3
    with pytest.raises(formats.ImageFormatError, match="backing file"):
        formats.verify("qcow2", top, None, None)
    with pytest.raises(formats.ImageFormatError, match="external data file"):
        formats.verify("qcow2", data_file, None, None)
    with pytest.raises(formats.ImageFormatError, match="backing file"):
        formats.verify("ami", top, None, None)  # unsafe under any declared format


def iso_head() -> bytes:
    head = bytearray(formats.HEAD_BYTES)
    head[0x8001:0x8006] = b"CD001"
    return bytes(head)


@pytest.mark.parametrize(
    ("declared", "head", "ok"),
    [
        ("raw", b"\x00" * 1024, True),
        ("raw", iso_head(), True),
        ("raw", qcow2_header(), False),
        ("qcow2", b"\x00" * 1024, False),
        ("iso", iso_head(), True),
        ("iso", b"\x00" * 1024, False),
        ("vmdk", qcow2_header(), False),
        ("vhdx", b"vhdxfile" + bytes(100), True),
        ("vdi", bytes(0x40) + struct.pack("<I", 0xBEDA107F) + bytes(0x200), True),
        ("ami", b"anything", True),
        ("aki", qcow2_header(), True),
    ],
)
def test_declared_format_must_match_the_data(declared: str, head: bytes, ok: bool) -> None:
    if ok:
        formats.verify(declared, head, b"", len(head))
    else:
        with pytest.raises(formats.ImageFormatError, match="does not match"):
            formats.verify(declared, head, b"", len(head))


def test_vmdk_descriptor_files_and_flat_create_types_are_refused() -> None:
    with pytest.raises(formats.ImageFormatError):
        formats.verify("vmdk", b'# Disk DescriptorFile\ncreateType="monolithicFlat"\n', b"", 100)
    sparse = struct.pack("<4sII", b"KDMV", 1, 3) + struct.pack("<QQQQ", 2048, 128, 1, 1) + bytes(512 - 44)
    good = sparse + b'createType="monolithicSparse"'.ljust(512, b"\x00")
    bad = sparse + b'createType="vmfs"'.ljust(512, b"\x00")
    assert formats.verify("vmdk", good, b"", len(good)) == 2048 * 512
    with pytest.raises(formats.ImageFormatError, match="createType"):
        formats.verify("vmdk", bad, b"", len(bad))


def test_fixed_vhd_is_recognised_by_its_footer_only_at_the_end() -> None:
    footer = b"conectix".ljust(512, b"\x00")
    assert formats.verify("vhd", b"\x00" * 1024, None, None) is None  # cannot tell yet
    assert formats.verify("vhd", b"\x00" * 1024, footer, 1024 + 512) == 1024
    with pytest.raises(formats.ImageFormatError):
        formats.verify("vhd", b"\x00" * 1024, b"\x00" * 512, 1536)


@given(head=st.binary(max_size=2048), declared=st.sampled_from(["raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso"]))
def test_inspection_of_arbitrary_bytes_only_ever_refuses_cleanly(head: bytes, declared: str) -> None:
    try:
        formats.verify(declared, head, head[-512:], len(head))
    except formats.ImageFormatError:
        pass


@given(st.binary(max_size=512))
def test_any_bytes_after_a_qcow2_magic_parse_or_are_rejected(tail: bytes) -> None:
    formats.detect(b"QFI\xfb" + tail)
