"""Plugging a VM's VIF into the integration bridge, as OVN on the userspace datapath requires.

The tap is made *outside* OVS (``ip tuntap add``) and added as a plain port: an OVS-owned ``type=tap`` or
``internal`` port is held open by ovs-vswitchd and QEMU then fails with EBUSY. libvirt attaches QEMU to
the existing tap (``<interface type='ethernet'><target dev='tapX' managed='no'/>``, with
``<host csum='off'/>``), so the tap must exist before the domain starts. The Interface carries
``iface-id`` (the port id ovn-controller binds), ``attached-mac``, ``iface-status`` and a Stratus marker
(``stratus-network=<network id>``) from which the agent rebuilds its state after a restart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stratus.network.agent.iplink import IpLink, check_ifname
from stratus.network.agent.ovs import Ovs

MARKER = "stratus-network"
"""Interface external_ids key holding the network id of a VIF Stratus plugged."""
MTU_KEY = "stratus-mtu"
"""Interface external_ids key holding the tap's MTU, so a tap lost in a host reboot can be made again."""
MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")


@dataclass(frozen=True)
class PluggedVif:
    port_id: str
    network_id: str
    devname: str
    mac_address: str
    mtu: int | None = None


def vif_external_ids(port_id: str, network_id: str, mac_address: str, mtu: int | None = None) -> dict[str, str]:
    ids = {
        "iface-id": port_id,
        "attached-mac": mac_address.lower(),
        "iface-status": "active",
        MARKER: network_id,
    }
    if mtu is not None:
        ids[MTU_KEY] = str(mtu)
    return ids


def validate(port_id: str, network_id: str, mac_address: str, devname: str, mtu: int) -> None:
    """ValueError naming the first bad argument."""
    check_ifname(devname)
    if not MAC.match(mac_address):
        raise ValueError(f"invalid MAC address {mac_address!r}")
    if not isinstance(mtu, int) or not 68 <= mtu <= 65535:
        raise ValueError(f"invalid MTU {mtu!r} (68-65535)")
    for what, value in (("port_id", port_id), ("network_id", network_id)):
        if not value or not isinstance(value, str) or len(value) > 64 or any(c in value for c in '"\\\n'):
            raise ValueError(f"invalid {what} {value!r}")


def plug(
    ovs: Ovs, ip: IpLink, bridge: str, *, port_id: str, network_id: str, mac_address: str, devname: str, mtu: int
) -> PluggedVif:
    """Create tap ``devname`` (if missing), set its MTU, bring it up and put it on ``bridge``. Idempotent."""
    validate(port_id, network_id, mac_address, devname, mtu)
    ip.add_tap(devname)
    ip.set_up(devname, mtu=mtu)
    ovs.add_port(bridge, devname, external_ids=vif_external_ids(port_id, network_id, mac_address, mtu))
    return PluggedVif(port_id, network_id, devname, mac_address.lower(), mtu)


def unplug(ovs: Ovs, ip: IpLink, devname: str) -> None:
    """Take ``devname`` off its bridge and delete it. Idempotent."""
    check_ifname(devname)
    ovs.del_port(devname)
    ip.delete(devname)


def plugged_vifs(ovs: Ovs, bridge: str) -> list[PluggedVif]:
    """The VIFs Stratus plugged on ``bridge`` (its ports carrying the marker and an iface-id)."""
    on_bridge = set(ovs.list_ports(bridge))
    vifs = []
    for name, ids in sorted(ovs.interfaces().items()):
        if name in on_bridge and ids.get(MARKER) and ids.get("iface-id"):
            mtu = int(ids[MTU_KEY]) if ids.get(MTU_KEY, "").isdigit() else None
            vifs.append(PluggedVif(ids["iface-id"], ids[MARKER], name, ids.get("attached-mac", ""), mtu))
    return vifs


def restore_missing_taps(ip: IpLink, vifs: list[PluggedVif], default_mtu: int) -> list[str]:
    """Make again the taps of ``vifs`` that no longer exist (gone with a host reboot; OVS still lists them).

    The guests the compute agent starts again after the reboot attach to these taps, and vswitchd picks a
    re-created device up under its port by name. Returns the names made.
    """
    made = []
    for v in vifs:
        if not ip.exists(v.devname):
            ip.add_tap(v.devname)
            ip.set_up(v.devname, mtu=v.mtu or default_mtu)
            made.append(v.devname)
    return made
