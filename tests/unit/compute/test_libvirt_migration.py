"""Live migration's libvirt side: the flags, the parameters and the destination's domain XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import libvirt
import pytest

from stratus.compute.messages import FlavorSpec, ImageSpec, InstanceSpec, VifSpec
from stratus.compute.virt.libvirt import config, migration

UUID = "6f1c9a52-0d7e-4a8e-9b1e-2d3c4b5a6f70"
SRC = config.DomainPaths(disk=Path("/h1/instances/u/disk.qcow2"), console=Path("/h1/instances/u/console.log"))
BACKING = """<backingStore type='file' index='1'><format type='raw'/><source file='/h1/image-cache/img-1'/>
<backingStore/></backingStore>"""


def source_xml() -> str:
    """What the source's libvirt gives for a running guest: our definition plus a backing chain."""
    instance = InstanceSpec(
        uuid=UUID,
        name="vm1",
        hostname="vm1",
        project_id="p1",
        user_id="u1",
        flavor=FlavorSpec("1", "m1.tiny", 1, 256, 1),
        image=ImageSpec(id="img-1", name="testvm", disk_format="qcow2"),
        vifs=[VifSpec(port_id="0123456789abcdef", network_id="n1", mac_address="fa:16:3e:00:00:01", vif_type="ovs")],
    )
    xml = config.domain_xml(instance, SRC, virt_type="qemu", owner="host-1:/h1")
    return xml.replace('<target dev="vda"', BACKING + '<target dev="vda"', 1)


def rewrite(xml: str | None = None) -> str:
    return migration.destination_xml(
        xml or source_xml(),
        disk="/h2/instances/u/disk.qcow2",
        console="/h2/instances/u/console.log",
        owner="host-2:/h2",
    )


def test_destination_xml_names_the_destination_disk_console_and_owner() -> None:
    out = rewrite()
    dom = ET.fromstring(out)
    (disk,) = dom.findall("devices/disk")
    assert disk.find("source").get("file") == "/h2/instances/u/disk.qcow2"
    assert disk.find("backingStore") is None  # the destination reads its own overlay's chain
    assert disk.find("target").get("dev") == "vda"
    for tag in ("serial", "console"):
        assert dom.find(f"devices/{tag}/source").get("path") == "/h2/instances/u/console.log"
    assert "/h1/" not in out
    # everything else is the source's: the same NIC (tap, MAC), memory, uuid
    assert dom.find("devices/interface/target").get("dev") == "tap0123456789a"
    assert dom.find("devices/interface/mac").get("address") == "fa:16:3e:00:00:01"
    assert dom.findtext("uuid") == UUID and dom.findtext("memory") == str(256 * 1024)


def test_destination_xml_keeps_the_metadata_namespace_on_the_metadata_element() -> None:
    out = rewrite()
    root_tag = out.split(">", 1)[0]
    assert "xmlns:stratus" not in root_tag  # libvirt keeps a metadata element only with its own declaration
    assert f'<stratus:instance xmlns:stratus="{config.METADATA_NS}">' in out
    instance = ET.fromstring(out).find(f"metadata/{{{config.METADATA_NS}}}instance")
    meta = config.parse_metadata(ET.tostring(instance, encoding="unicode"))
    assert meta["owner"] == "host-2:/h2" and meta["name"] == "vm1" and meta["image_id"] == "img-1"


def test_destination_xml_refuses_a_guest_that_is_not_ours() -> None:
    with pytest.raises(ValueError, match="no disk vda"):
        rewrite("<domain><devices><disk><target dev='sda'/></disk></devices></domain>")
    no_owner = source_xml().split("<metadata>")[0] + source_xml().split("</metadata>")[1]
    with pytest.raises(ValueError, match="owner"):
        rewrite(no_owner)


def test_flags_are_live_peer_to_peer_incremental_block_migration() -> None:
    flags = migration.migration_flags()
    for flag in ("LIVE", "PEER2PEER", "NON_SHARED_INC", "PERSIST_DEST", "UNDEFINE_SOURCE"):
        assert flags & getattr(libvirt, f"VIR_MIGRATE_{flag}"), flag
    assert not flags & libvirt.VIR_MIGRATE_NON_SHARED_DISK  # the base image is not copied: only the overlay
    assert not flags & libvirt.VIR_MIGRATE_TUNNELLED
    assert not migration.migration_flags(block=False) & libvirt.VIR_MIGRATE_NON_SHARED_INC


def test_params_copy_the_root_disk_to_the_destination_address() -> None:
    params = migration.migration_params("<domain/>", "10.250.3.12")
    assert params[libvirt.VIR_MIGRATE_PARAM_DEST_XML] == "<domain/>"
    assert params[libvirt.VIR_MIGRATE_PARAM_PERSIST_XML] == "<domain/>"
    assert params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] == ["vda"]
    assert params[libvirt.VIR_MIGRATE_PARAM_URI] == "tcp://10.250.3.12"
    assert params[libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS] == "10.250.3.12"
    assert migration.migration_params("<d/>", "fd00::2")[libvirt.VIR_MIGRATE_PARAM_URI] == "tcp://[fd00::2]"


def test_peer_uri() -> None:
    assert migration.peer_uri("qemu+tcp://%s/system", "10.250.3.12") == "qemu+tcp://10.250.3.12/system"
    assert migration.peer_uri("qemu+tcp://%s/system", "fd00::2") == "qemu+tcp://[fd00::2]/system"
    assert migration.peer_uri("qemu+ssh://fixed/system", "x") == "qemu+ssh://fixed/system"
