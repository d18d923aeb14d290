"""Live block migration between two libvirtds: the flags, the parameters and the destination's domain XML.

No storage is shared: the destination makes the guest's overlay on its own cached copy of the base
image first (``pre_live_migration``), then QEMU copies the overlay's data over NBD
(``VIR_MIGRATE_NON_SHARED_INC``: only the top layer, the base is the same image on both hosts) along
with the memory. Instance directories are per state directory, so the XML the destination defines
names its own disk, console file and owner (``VIR_MIGRATE_PARAM_DEST_XML``); ``<backingStore>`` is
dropped so the destination reads the chain from its overlay's header. The source libvirtd talks to
the destination's (``PEER2PEER``) and QEMU streams to the destination's address directly.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import libvirt

from stratus.compute.virt.libvirt import config

ROOT_DISK = "vda"


def migration_flags(block: bool = True) -> int:
    """Live, peer to peer, persistent on the destination and undefined on the source; the disk copied if ``block``."""
    flags = (
        libvirt.VIR_MIGRATE_LIVE
        | libvirt.VIR_MIGRATE_PEER2PEER
        | libvirt.VIR_MIGRATE_PERSIST_DEST
        | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    )
    if block:
        flags |= libvirt.VIR_MIGRATE_NON_SHARED_INC
    return flags


def migration_params(dest_xml: str, address: str, disks: list[str] | None = None) -> dict[str, Any]:
    """``migrateToURI3`` parameters: the destination's XML (live and persistent), the disks to copy, and
    QEMU's migration and NBD streams on the destination's ``address`` (never a default route's)."""
    host = f"[{address}]" if ":" in address else address
    return {
        libvirt.VIR_MIGRATE_PARAM_DEST_XML: dest_xml,
        libvirt.VIR_MIGRATE_PARAM_PERSIST_XML: dest_xml,
        libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS: list(disks or [ROOT_DISK]),
        libvirt.VIR_MIGRATE_PARAM_URI: f"tcp://{host}",
        libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS: address,
    }


def peer_uri(template: str, address: str) -> str:
    """The destination libvirtd's URI: ``template`` ('qemu+tcp://%s/system') with its address."""
    host = f"[{address}]" if ":" in address else address
    return template % host if "%s" in template else template


def destination_xml(xml: str, *, disk: Path | str, console: Path | str, owner: str) -> str:
    """The source's domain XML with the destination's paths for the root disk and the console, and its owner.

    Raises ValueError if the XML has no root disk (``vda``) to rewrite: a guest this driver did not define.
    """
    root = ET.fromstring(xml)
    devices = root.find("devices")
    if devices is None:
        raise ValueError("the domain XML has no <devices>")
    rewritten = False
    for dev in devices.findall("disk"):
        target = dev.find("target")
        if target is None or target.get("dev") != ROOT_DISK:
            continue
        source = dev.find("source")
        if source is None:
            raise ValueError(f"disk {ROOT_DISK} has no <source>")
        source.set("file", str(disk))
        for backing in dev.findall("backingStore"):
            dev.remove(backing)  # the source's base path; the destination reads its own overlay's header
        rewritten = True
    if not rewritten:
        raise ValueError(f"the domain XML has no disk {ROOT_DISK}")
    for tag in ("serial", "console"):
        for dev in devices.findall(tag):
            source = dev.find("source")
            if dev.get("type") == "file" and source is not None:
                source.set("path", str(console))
    _set_owner(root, owner)
    return _serialize(root)


def _serialize(root: ET.Element) -> str:
    """The XML text, with our metadata namespace declared on ``<stratus:instance>`` itself (as ``config`` writes
    it: libvirt keeps a metadata element only with its own declaration), not hoisted to ``<domain>``."""
    prefix, ns = config.METADATA_PREFIX, config.METADATA_NS
    ET.register_namespace(prefix, ns)
    text = ET.tostring(root, encoding="unicode")
    declaration = f' xmlns:{prefix}="{ns}"'
    head, sep, rest = text.partition(">")
    if declaration in head:
        text = head.replace(declaration, "") + sep + rest
        text = text.replace(f"<{prefix}:instance>", f"<{prefix}:instance{declaration}>", 1)
    return text


def _set_owner(root: ET.Element, owner: str) -> None:
    """Point the Stratus metadata at the destination's driver (``<owner>`` in our namespace)."""
    for element in root.iter():
        if element.tag == f"{{{config.METADATA_NS}}}owner":
            element.text = owner
            return
    raise ValueError("the domain XML has no Stratus owner metadata")
