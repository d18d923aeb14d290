"""Ports the service makes for routers and floating IPs, inside the caller's transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.network import models
from stratus.network.core import ipam, macs
from stratus.network.core.base import Deps, new_id

GATEWAY_OWNER = "network:router_gateway"
INTERFACE_OWNER = "network:router_interface"
FIP_OWNER = "network:floatingip"


def make_port(
    session: Session,
    deps: Deps,
    network_id: str,
    *,
    project_id: str,
    device_owner: str,
    device_id: str,
    fixed_ips: list[dict[str, Any]] | None = None,
    only_v4: bool = False,
) -> models.Port:
    """A port with addresses (``fixed_ips`` as in the API, or automatic); no security groups."""
    port = models.Port(
        id=new_id(),
        network_id=network_id,
        project_id=project_id,
        mac_address=macs.random_mac(deps.conf.mac_prefix),
        device_owner=device_owner,
        device_id=device_id,
        port_security_enabled=False,
    )
    session.add(port)
    session.flush()
    subnets = list(session.scalars(sa.select(models.Subnet).where(models.Subnet.network_id == network_id)))
    if only_v4:
        subnets = [s for s in subnets if s.ip_version == 4]
    requested = None if fixed_ips is None else ipam.resolve_requested(network_id, subnets, fixed_ips)
    port.fixed_ips = ipam.allocation_rows(session, port, subnets, requested)
    session.flush()
    return port


def interfaces(session: Session, router_id: str) -> list[models.Port]:
    query = sa.select(models.Port).where(
        models.Port.device_id == router_id, models.Port.device_owner == INTERFACE_OWNER
    )
    return list(session.scalars(query))
