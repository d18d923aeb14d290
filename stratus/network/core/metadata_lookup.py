"""What the per-host metadata proxies ask the network server over the bus (Neutron's metadata agent RPC).

``metadata_port``: the network's metadata (``localport``) port, for the proxy's namespace on each host.
``lookup_instance``: which instance (and project) holds a fixed IP on a network, to sign its requests.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.network import models
from stratus.network.core.subnets import METADATA_OWNER

COMPUTE_OWNER_PREFIX = "compute:"


def metadata_port(session: Session, network_id: str) -> dict[str, Any] | None:
    """``{"port_id", "mac_address", "cidrs": ["10.0.0.2/24", ...], "mtu"}`` of the network's metadata port.

    None when the network has none (no IPv4 DHCP subnet) or the port holds no IPv4 address yet.
    """
    net = session.get(models.Network, network_id)
    if net is None:
        return None
    port = session.scalars(
        sa.select(models.Port)
        .where(models.Port.network_id == network_id, models.Port.device_owner == METADATA_OWNER)
        .order_by(models.Port.created_at)
    ).first()
    if port is None:
        return None
    subnets = {s.id: s for s in net.subnets}
    cidrs = []
    for alloc in port.fixed_ips:
        subnet = subnets.get(alloc.subnet_id)
        if subnet is None or subnet.ip_version != 4:
            continue
        cidrs.append(f"{alloc.ip_address}/{ipaddress.ip_network(subnet.cidr).prefixlen}")
    if not cidrs:
        return None
    return {"port_id": port.id, "mac_address": port.mac_address, "cidrs": cidrs, "mtu": net.mtu}


def lookup_instance(session: Session, network_id: str, address: str) -> dict[str, str] | None:
    """``{"device_id", "project_id"}`` of the compute port holding ``address`` on ``network_id``, else None."""
    try:
        address = str(ipaddress.ip_address(address))
    except ValueError:
        return None
    port = session.scalars(
        sa.select(models.Port)
        .join(models.IPAllocation, models.IPAllocation.port_id == models.Port.id)
        .where(
            models.IPAllocation.network_id == network_id,
            models.IPAllocation.ip_address == address,
            models.Port.device_owner.startswith(COMPUTE_OWNER_PREFIX),
        )
    ).first()
    if port is None or not port.device_id:
        return None
    return {"device_id": port.device_id, "project_id": port.project_id}
