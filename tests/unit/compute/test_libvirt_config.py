"""Domain XML of the libvirt driver: flavor, disk, console, NICs, metadata."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from stratus.compute.messages import FlavorSpec, ImageSpec, InstanceSpec, VifSpec
from stratus.compute.virt.libvirt import config

UUID = "6f1c9a52-0d7e-4a8e-9b1e-2d3c4b5a6f70"
PATHS = config.DomainPaths(disk=Path("/s/instances/u/disk.qcow2"), console=Path("/s/instances/u/console.log"))


def spec(**kw: object) -> InstanceSpec:
    flavor = FlavorSpec("1", "m1.tiny", 2, 256, 1)
    image = ImageSpec(id="img-1", name="testvm", disk_format="qcow2")
    base: dict = {"uuid": UUID, "name": "vm1", "hostname": "vm1", "project_id": "p1", "user_id": "u1"}
    return InstanceSpec(**{**base, "flavor": flavor, "image": image, **kw})


def parse(instance: InstanceSpec, virt_type: str = "qemu") -> ET.Element:
    return ET.fromstring(config.domain_xml(instance, PATHS, virt_type=virt_type, owner="host1:/s"))


def test_flavor_uuid_and_tcg() -> None:
    dom = parse(spec())
    assert dom.get("type") == "qemu"
    assert dom.findtext("uuid") == UUID and dom.findtext("name") == UUID
    assert dom.findtext("vcpu") == "2"
    assert dom.find("memory").get("unit") == "KiB" and dom.findtext("memory") == str(256 * 1024)
    assert dom.find("features/acpi") is not None
    assert dom.find("cpu") is None  # TCG: QEMU's default CPU model


def test_kvm_uses_host_model() -> None:
    dom = parse(spec(), "kvm")
    assert dom.get("type") == "kvm" and dom.find("cpu").get("mode") == "host-model"


def test_virtio_disk_and_file_console() -> None:
    dom = parse(spec())
    disk = dom.find("devices/disk")
    assert disk.find("target").attrib == {"dev": "vda", "bus": "virtio"}
    assert disk.find("driver").get("type") == "qcow2" and disk.find("source").get("file") == str(PATHS.disk)
    serial = dom.find("devices/serial")
    assert serial.get("type") == "file" and serial.find("source").get("path") == str(PATHS.console)
    assert serial.find("source").get("append") == "on"
    assert dom.find("devices/console").get("type") == "file"


def test_nic_none_has_no_interface() -> None:
    assert parse(spec()).find("devices/interface") is None


def test_ovs_vif_uses_the_tap_the_network_agent_plugged() -> None:
    vif = VifSpec(port_id="1234567890abcdef", network_id="n", mac_address="fa:16:3e:00:00:01", mtu=1442)
    iface = parse(spec(vifs=[vif])).find("devices/interface")
    assert iface.get("type") == "ethernet"
    assert iface.find("mac").get("address") == "fa:16:3e:00:00:01"
    # the tap already sits on br-int: libvirt must not create, bridge or delete it
    assert iface.find("target").attrib == {"dev": "tap1234567890a", "managed": "no"}
    assert iface.find("source") is None and iface.find("virtualport") is None
    assert iface.find("driver/host").get("csum") == "off"
    assert iface.find("mtu").get("size") == "1442"
    assert iface.find("model").get("type") == "virtio"


def test_tap_name_is_devname_or_derived_and_fits_ifnamsiz() -> None:
    port = "0123456789abcdef-0000"
    assert config.tap_name(VifSpec(port_id=port, network_id="n", mac_address="m")) == "tap0123456789a"
    assert len(config.tap_name(VifSpec(port_id=port, network_id="n", mac_address="m"))) <= 14
    assert config.tap_name(VifSpec(port_id=port, network_id="n", mac_address="m", devname="tapY")) == "tapY"


def test_ovs_vif_keeps_devname_and_order() -> None:
    vifs = [
        VifSpec(port_id="a" * 36, network_id="n", mac_address="fa:16:3e:00:00:0a", devname="tapA", mtu=1500),
        VifSpec(port_id="b" * 36, network_id="n", mac_address="fa:16:3e:00:00:0b"),
    ]
    ifaces = parse(spec(vifs=vifs)).findall("devices/interface")
    assert [i.find("target").get("dev") for i in ifaces] == ["tapA", "tapbbbbbbbbbbb"]
    assert [i.find("mtu").get("size") for i in ifaces] == ["1500", "1442"]


def test_other_vif_type_is_a_tap_libvirt_manages() -> None:
    vif = VifSpec(port_id="p", network_id="n", mac_address="fa:16:3e:00:00:02", vif_type="tap", devname="tapX")
    iface = parse(spec(vifs=[vif])).find("devices/interface")
    assert iface.get("type") == "ethernet" and iface.find("target").attrib == {"dev": "tapX"}


def test_metadata_round_trip() -> None:
    xml = config.domain_xml(spec(), PATHS, virt_type="qemu", owner="host1:/s")
    # libvirt needs the namespace on the metadata element itself
    assert '<stratus:instance xmlns:stratus="https://stratus.dev/xmlns/libvirt/instance/1.0">' in xml
    element = ET.fromstring(xml).find("metadata")[0]
    meta = config.parse_metadata(ET.tostring(element, encoding="unicode"))
    assert meta["name"] == "vm1" and meta["owner"] == "host1:/s" and meta["image_id"] == "img-1"
    # virDomainGetMetadata hands the element back without its namespace
    bare = "<instance><name>vm1</name><owner>host1:/s</owner></instance>"
    assert config.parse_metadata(bare)["owner"] == "host1:/s"
    assert config.parse_metadata("<other/>") == {} and config.parse_metadata("not xml") == {}


def test_no_dac_relabelling() -> None:
    seclabel = parse(spec()).find("seclabel")
    assert seclabel.attrib == {"type": "static", "model": "dac", "relabel": "no"}
