"""Reading an instance's ``network_info`` (its ports with their addresses, as the compute API stores them).

Each port is a dict with ``mac_address``, ``network_id`` and ``ips`` (``[{"address", "type": "fixed" |
"floating"}]``); optional keys this module uses when present: ``id``/``port_id``, ``mtu``, ``devname``,
``vif_type``, and per address ``cidr``, ``gateway``, ``enable_dhcp``, ``ipv6_address_mode``,
``dns_nameservers``. Missing details degrade to what a DHCP-configured guest needs.
"""

from __future__ import annotations

import ipaddress
from typing import Any


def _version(address: str) -> int | None:
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return None


def addresses(network_info: list[dict[str, Any]], *, version: int) -> tuple[list[str], list[str]]:
    """(fixed, floating) addresses of one IP version, in port order."""
    fixed: list[str] = []
    floating: list[str] = []
    for port in network_info:
        for ip in port.get("ips") or []:
            address = str(ip.get("address", ""))
            if _version(address) != version:
                continue
            (floating if ip.get("type") == "floating" else fixed).append(address)
    return fixed, floating


def _port_id(port: dict[str, Any]) -> str:
    return str(port.get("id") or port.get("port_id") or "")


def _link(port: dict[str, Any], index: int) -> dict[str, Any]:
    port_id = _port_id(port)
    return {
        "id": str(port.get("devname") or (f"tap{port_id[:11]}" if port_id else f"interface{index}")),
        "vif_id": port_id,
        "type": str(port.get("vif_type") or "ovs"),
        "mtu": port.get("mtu"),
        "ethernet_mac_address": str(port.get("mac_address", "")),
    }


def _network(ip: dict[str, Any], link_id: str, network_id: str, number: int) -> dict[str, Any] | None:
    address = str(ip.get("address", ""))
    version = _version(address)
    if version is None:
        return None
    entry: dict[str, Any] = {"id": f"network{number}", "link": link_id, "network_id": network_id}
    cidr = ip.get("cidr")
    mode = ip.get("ipv6_address_mode")
    if version == 6 and mode in ("slaac", "dhcpv6-stateful", "dhcpv6-stateless"):
        return {**entry, "type": f"ipv6_{mode}"}
    if not cidr or ip.get("enable_dhcp", True):
        if version == 6 and not cidr:
            return None  # nothing a guest could use
        return {**entry, "type": f"ipv{version}_dhcp"}
    net = ipaddress.ip_network(str(cidr), strict=False)
    entry.update(type=f"ipv{version}", ip_address=address, netmask=str(net.netmask), routes=[])
    if ip.get("gateway"):
        default = "0.0.0.0" if version == 4 else "::"
        entry["routes"].append({"network": default, "netmask": default, "gateway": str(ip["gateway"])})
    dns = [str(a) for a in ip.get("dns_nameservers") or []]
    if dns:
        entry["services"] = [{"type": "dns", "address": a} for a in dns]
    return entry


def network_data(network_info: list[dict[str, Any]]) -> dict[str, Any]:
    """``network_data.json`` (links, networks, services) as Nova's ``get_network_metadata`` shapes it."""
    links: list[dict[str, Any]] = []
    networks: list[dict[str, Any]] = []
    services: list[dict[str, str]] = []
    for index, port in enumerate(network_info):
        link = _link(port, index)
        links.append(link)
        for ip in port.get("ips") or []:
            if ip.get("type") == "floating":
                continue
            entry = _network(ip, link["id"], str(port.get("network_id", "")), len(networks))
            if entry is None:
                continue
            networks.append(entry)
            for service in entry.get("services", []):
                if service not in services:
                    services.append(service)
    return {"links": links, "networks": networks, "services": services}
