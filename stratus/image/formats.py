"""Disk format inspection: what the first bytes (and the last 512) of image data say it is.

Only headers are read, so inspection works while data streams past. Detection follows the
on-disk specifications (qcow2: docs/interop/qcow2.txt in QEMU; VMDK, VHD/VHDX, VDI, ISO 9660).
``verify`` applies the upload rules: the data must be what its ``disk_format`` says, and a qcow2
may not name a backing file or an external data file, nor a VMDK point at extents outside itself
(either would make the hypervisor read host files).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from stratus.core.exceptions import BadRequest

HEAD_BYTES = 64 * 1024
"""Bytes kept from the start of the data: covers qcow2's header, extensions and ISO's descriptor."""
TAIL_BYTES = 512
"""Bytes kept from the end of the data: a fixed VHD's footer."""

QCOW2_MAGIC = b"QFI\xfb"
QCOW2_INCOMPAT_DATA_FILE = 1 << 2
QCOW2_EXT_DATA_FILE = 0x44415441
QCOW2_EXT_END = 0
VMDK_SAFE_CREATE_TYPES = ("monolithicSparse", "streamOptimized")
ISO_OFFSETS = (0x8001, 0x8801, 0x9001)
UNCHECKED_FORMATS = frozenset({"ami", "ari", "aki", "ploop"})
"""Formats with no header of their own: any data is accepted (unsafe qcow2 is still refused)."""
RAW_COMPATIBLE = frozenset({"raw", "iso"})
"""What raw data may turn out to be: an ISO is raw bytes too."""


class ImageFormatError(BadRequest):
    """The data is unsafe or does not match its declared disk_format."""


@dataclass(frozen=True)
class Qcow2Header:
    version: int
    backing_file_offset: int
    backing_file_size: int
    cluster_bits: int
    size: int
    incompatible_features: int
    header_length: int
    has_data_file_extension: bool

    @property
    def has_backing_file(self) -> bool:
        return self.backing_file_offset != 0

    @property
    def has_external_data_file(self) -> bool:
        return bool(self.incompatible_features & QCOW2_INCOMPAT_DATA_FILE) or self.has_data_file_extension


@dataclass(frozen=True)
class Detected:
    """What inspection found: a format name (``raw`` when nothing else matched) and details."""

    format: str
    virtual_size: int | None = None
    unsafe_reason: str | None = None


def parse_qcow2(head: bytes) -> Qcow2Header | None:
    """Parse a qcow2 header (v2 or v3) and walk its header extensions; None if not qcow2."""
    if len(head) < 72 or head[:4] != QCOW2_MAGIC:
        return None
    version, backing_off, backing_size, cluster_bits, size = struct.unpack_from(">IQIIQ", head, 4)
    if version not in (2, 3):
        return None
    incompatible, header_length = 0, 72
    if version == 3 and len(head) >= 104:
        (incompatible,) = struct.unpack_from(">Q", head, 72)
        (header_length,) = struct.unpack_from(">I", head, 100)
    return Qcow2Header(
        version=version,
        backing_file_offset=backing_off,
        backing_file_size=backing_size,
        cluster_bits=cluster_bits,
        size=size,
        incompatible_features=incompatible,
        header_length=header_length,
        has_data_file_extension=_qcow2_has_extension(head, header_length, QCOW2_EXT_DATA_FILE),
    )


def _qcow2_has_extension(head: bytes, offset: int, wanted: int) -> bool:
    """Walk the extension list (type u32, length u32, data padded to 8) that follows the header."""
    while offset + 8 <= len(head):
        ext_type, length = struct.unpack_from(">II", head, offset)
        if ext_type == QCOW2_EXT_END:
            return False
        if ext_type == wanted:
            return True
        offset += 8 + ((length + 7) & ~7)
    return False


def _detect_vmdk(head: bytes) -> Detected | None:
    if head[:4] == b"KDMV" and len(head) >= 44:
        capacity, _grain, desc_offset, desc_size = struct.unpack_from("<QQQQ", head, 12)
        descriptor = head[desc_offset * 512 : (desc_offset + desc_size) * 512] if desc_offset else b""
        return Detected("vmdk", capacity * 512, _vmdk_descriptor_problem(descriptor) if descriptor else None)
    if head.startswith(b"# Disk DescriptorFile"):
        return Detected("vmdk", None, "a VMDK descriptor file refers to extents outside the image")
    return None


def _vmdk_descriptor_problem(descriptor: bytes) -> str | None:
    match = re.search(rb'createType\s*=\s*"([^"]*)"', descriptor)
    kind = match.group(1).decode(errors="replace") if match else ""
    if kind not in VMDK_SAFE_CREATE_TYPES:
        return f"VMDK createType {kind or 'unknown'!r} is not allowed (only {', '.join(VMDK_SAFE_CREATE_TYPES)})"
    return None


def detect(head: bytes) -> Detected:
    """The format the first bytes of the data show (``raw`` when none matches)."""
    qcow2 = parse_qcow2(head)
    if qcow2 is not None:
        reason = None
        if qcow2.has_backing_file:
            reason = "qcow2 images with a backing file are not allowed"
        elif qcow2.has_external_data_file:
            reason = "qcow2 images with an external data file are not allowed"
        return Detected("qcow2", qcow2.size, reason)
    vmdk = _detect_vmdk(head)
    if vmdk is not None:
        return vmdk
    if head[:8] == b"vhdxfile":
        return Detected("vhdx")
    if head[:8] == b"conectix" and len(head) >= 56:
        return Detected("vhd", struct.unpack_from(">Q", head, 48)[0])
    if len(head) >= 0x178 and struct.unpack_from("<I", head, 0x40)[0] == 0xBEDA107F:
        return Detected("vdi", struct.unpack_from("<Q", head, 0x170)[0])
    if any(head[off : off + 5] == b"CD001" for off in ISO_OFFSETS):
        return Detected("iso")
    return Detected("raw")


def is_fixed_vhd(tail: bytes) -> bool:
    return len(tail) >= 512 and tail[-512:-504] == b"conectix"


def verify(declared: str, head: bytes, tail: bytes | None, size: int | None) -> int | None:
    """Raise :class:`ImageFormatError` unless the data may be stored as ``declared``.

    ``tail`` and ``size`` are None while data is still arriving (an early check on the head);
    the final check passes both. Returns the virtual size when known.
    """
    found = detect(head)
    if found.unsafe_reason:
        raise ImageFormatError(f"Image data refused: {found.unsafe_reason}.")
    if declared in UNCHECKED_FORMATS:
        return size
    if declared == "vhd" and found.format == "raw":
        if tail is None:
            return None  # a fixed VHD shows itself only in its footer
        if is_fixed_vhd(tail):
            return size - 512 if size else None
    ok = found.format in RAW_COMPATIBLE if declared == "raw" else found.format == declared
    if not ok:
        raise ImageFormatError(
            f"Image data does not match its disk_format: declared {declared!r} but the data is {found.format!r}."
        )
    if found.format in RAW_COMPATIBLE:
        return size
    return found.virtual_size
