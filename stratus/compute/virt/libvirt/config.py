"""Domain XML for one instance, built with xml.etree (never by string formatting).

The domain is named by the instance uuid and carries the uuid as its libvirt uuid; a
``<stratus:instance>`` metadata element names the Stratus instance and the state directory that
owns it, so a driver lists only its own domains on a libvirtd other software also uses.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from stratus.compute.messages import InstanceSpec, VifSpec, tap_devname

METADATA_NS = "https://stratus.dev/xmlns/libvirt/instance/1.0"
METADATA_PREFIX = "stratus"


@dataclass(frozen=True)
class DomainPaths:
    disk: Path
    console: Path


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def tap_name(vif: VifSpec) -> str:
    """The host device of a port: ``devname`` if given, else 'tap' + the first 11 characters of the port id.

    At most 14 characters (IFNAMSIZ - 1 is 15); the compute agent gives the network agent the same name.
    """
    return vif.devname or tap_devname(vif.port_id)


def interface_xml(vif: VifSpec) -> ET.Element:
    """A virtio NIC on the tap of ``vif``.

    ``vif_type`` 'ovs': the network agent already created the tap and put it on ``br-int`` with the
    port id as iface-id, so libvirt must neither create nor delete it (``managed='no'``). Any other
    type gets a plain tap libvirt makes (no network behind it).
    """
    iface = ET.Element("interface", type="ethernet")
    _sub(iface, "mac", address=vif.mac_address)
    target = _sub(iface, "target", dev=tap_name(vif))
    if vif.vif_type == "ovs":
        target.set("managed", "no")
    _sub(iface, "model", type="virtio")
    # Checksum offload breaks TCP through OVS's userspace datapath (notes/dataplane-and-guest.md).
    driver = _sub(iface, "driver", name="qemu")
    _sub(driver, "host", csum="off")
    _sub(iface, "mtu", size=str(vif.mtu))
    return iface


def metadata_xml(instance: InstanceSpec, owner: str) -> ET.Element:
    """The ``<stratus:instance>`` element (also what ``virDomainSetMetadata`` would take).

    libvirt wants the namespace declared on the metadata element itself, so the prefix is written
    literally rather than through ElementTree's namespace handling (which hoists it to the root).
    """
    ns = f"{METADATA_PREFIX}:"
    root = ET.Element(f"{ns}instance", {f"xmlns:{METADATA_PREFIX}": METADATA_NS})
    _sub(root, f"{ns}name", instance.name)
    _sub(root, f"{ns}owner", owner)
    _sub(root, f"{ns}project", instance.project_id)
    _sub(root, f"{ns}user", instance.user_id)
    f = instance.flavor
    _sub(root, f"{ns}flavor", f.name, vcpus=str(f.vcpus), memory_mb=str(f.memory_mb), root_gb=str(f.root_gb))
    if instance.image is not None:
        _sub(root, f"{ns}image", instance.image.name, id=instance.image.id)
    return root


def domain_xml(instance: InstanceSpec, paths: DomainPaths, *, virt_type: str, owner: str) -> str:
    """The persistent definition of ``instance``'s guest under ``virt_type`` ('kvm' or 'qemu' = TCG)."""
    flavor = instance.flavor
    dom = ET.Element("domain", type=virt_type)
    _sub(dom, "name", instance.uuid)
    _sub(dom, "uuid", instance.uuid)
    _sub(dom, "title", instance.name)
    _sub(dom, "metadata").append(metadata_xml(instance, owner))
    _sub(dom, "memory", str(flavor.memory_mb * 1024), unit="KiB")
    _sub(dom, "vcpu", str(flavor.vcpus))
    os_el = _sub(dom, "os")
    _sub(os_el, "type", "hvm", arch="x86_64", machine="pc")
    _sub(os_el, "boot", dev="hd")
    features = _sub(dom, "features")
    _sub(features, "acpi")  # the guest's power button: soft stop and soft reboot
    _sub(features, "apic")
    if virt_type == "kvm":
        _sub(dom, "cpu", mode="host-model")
    _sub(dom, "clock", offset="utc")
    _sub(dom, "on_poweroff", "destroy")
    _sub(dom, "on_reboot", "restart")
    _sub(dom, "on_crash", "destroy")
    devices = _sub(dom, "devices")
    disk = _sub(devices, "disk", type="file", device="disk")
    _sub(disk, "driver", name="qemu", type="qcow2")
    _sub(disk, "source", file=str(paths.disk))
    _sub(disk, "target", dev="vda", bus="virtio")
    for vif in instance.vifs:
        devices.append(interface_xml(vif))
    # The console survives power cycles (append); os-getConsoleOutput reads this file.
    serial = _sub(devices, "serial", type="file")
    _sub(serial, "source", path=str(paths.console), append="on")
    _sub(serial, "target", port="0")
    console = _sub(devices, "console", type="file")
    _sub(console, "source", path=str(paths.console), append="on")
    _sub(console, "target", type="serial", port="0")
    _sub(devices, "memballoon", model="none")
    # QEMU runs as root and libvirt leaves file ownership alone: no chown of cached base images.
    seclabel = _sub(dom, "seclabel", type="static", model="dac", relabel="no")
    _sub(seclabel, "label", "+0:+0")
    ET.indent(dom)
    return ET.tostring(dom, encoding="unicode")


def parse_metadata(xml: str) -> dict[str, str]:
    """The text fields of a ``<stratus:instance>`` element (name, owner, project, ...); {} if not ours.

    ``virDomainGetMetadata`` returns the element without its namespace, a domain's XML with it: both parse.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError:
        return {}
    if _local(root.tag) != "instance" or root.tag not in ("instance", f"{{{METADATA_NS}}}instance"):
        return {}
    out = {_local(child.tag): (child.text or "") for child in root}
    for child in root:
        if _local(child.tag) == "image":
            out["image_id"] = child.get("id", "")
    return out


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
