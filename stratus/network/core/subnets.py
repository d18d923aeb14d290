"""Subnets: CIDR, gateway, allocation pools, DHCP, and the network's metadata port (as Neutron/OVN)."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.context import RequestContext
from stratus.network import models
from stratus.network.core import ipam, lookup, macs, quotas, views
from stratus.network.core.attributes import parse
from stratus.network.core.base import Deps, authorize, new_id, owner_project, retry_on_conflict
from stratus.network.errors import bad_request, conflict

METADATA_OWNER = "network:distributed"


def metadata_device_id(network_id: str) -> str:
    return f"ovnmeta-{network_id}"


def _check_cidr(attrs: dict[str, Any]) -> str:
    if not attrs.get("cidr"):
        raise bad_request("BadRequest", "Bad subnets request: a cidr must be specified in the absence of a subnet pool")
    cidr = attrs["cidr"]
    raw = str(attrs.get("_raw_cidr", cidr))
    n = ipaddress.ip_network(cidr)
    if n.version != attrs["ip_version"]:
        raise bad_request("InvalidInput", "Invalid input for operation: Cidr and IP version are not compatible.")
    if raw != cidr:
        raise bad_request(
            "InvalidInput", f"Invalid input for operation: '{raw}' isn't a recommended CIDR, use '{cidr}'."
        )
    if (n.version == 4 and n.prefixlen > 30) or (n.version == 6 and n.prefixlen > 126) or n.prefixlen == 0:
        raise bad_request("InvalidInput", f"Invalid input for operation: the prefix length of {cidr} is not usable.")
    return cidr


def _check_gateway(cidr: str, gateway: str | None) -> None:
    if gateway is None:
        return
    ip = ipaddress.ip_address(gateway)
    n = ipaddress.ip_network(cidr)
    if (
        ip.version != n.version
        or ip not in n
        or ip == n.network_address
        or (n.version == 4 and ip == n.broadcast_address)
    ):
        raise bad_request("InvalidInput", f"Invalid input for operation: Gateway is not valid on subnet {cidr}.")


def _check_overlap(session: Session, network_id: str, cidr: str) -> None:
    new = ipaddress.ip_network(cidr)
    for other in session.scalars(sa.select(models.Subnet).where(models.Subnet.network_id == network_id)):
        old = ipaddress.ip_network(other.cidr)
        if old.version == new.version and old.overlaps(new):
            raise bad_request(
                "InvalidInput",
                f"Invalid input for operation: Requested subnet with cidr: {cidr} for network: {network_id} "
                "overlaps with another subnet.",
            )


def sync_metadata_port(session: Session, deps: Deps, net: models.Network) -> str | None:
    """Give the network's metadata (localport) port one address in every IPv4 DHCP subnet.

    Created with the first DHCP-enabled subnet, as Neutron's OVN driver does; returns its id."""
    subnets = list(session.scalars(sa.select(models.Subnet).where(models.Subnet.network_id == net.id)))
    dhcp = [s for s in subnets if s.enable_dhcp and s.ip_version == 4]
    ports = lookup.ports_of(session, network_id=net.id, device_owner=METADATA_OWNER)
    if not dhcp and not ports:
        return None
    if ports:
        port = ports[0]
    else:
        port = models.Port(
            id=new_id(),
            network_id=net.id,
            project_id=net.project_id,
            mac_address=macs.random_mac(deps.conf.mac_prefix),
            device_owner=METADATA_OWNER,
            device_id=metadata_device_id(net.id),
            port_security_enabled=False,
        )
        session.add(port)
        session.flush()
    have = {a.subnet_id for a in port.fixed_ips}
    want = {s.id for s in dhcp}
    for alloc in list(port.fixed_ips):
        if alloc.subnet_id not in want:
            port.fixed_ips.remove(alloc)
    used = ipam.used_addresses(session, net.id)
    for subnet in dhcp:
        if subnet.id not in have:
            address = ipam.pick_free(subnet, used, lowest=True)
            if address is not None:
                used.add(address)
                port.fixed_ips.append(
                    models.IPAllocation(network_id=net.id, ip_address=address, subnet_id=subnet.id, port_id=port.id)
                )
    port.revision_number += 1
    session.flush()
    return port.id


class SubnetManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        raw_cidr = (
            body.get("subnet", {}).get("cidr")
            if isinstance(body, dict) and isinstance(body.get("subnet"), dict)
            else None
        )
        attrs = parse("subnet", body, create=True)
        attrs["_raw_cidr"] = raw_cidr
        cidr = _check_cidr(attrs)
        gateway = attrs["gateway_ip"] if "gateway_ip" in attrs else ipam.default_gateway(cidr)
        _check_gateway(cidr, gateway)
        if "allocation_pools" in attrs:
            pools = ipam.validate_pools(cidr, gateway, attrs["allocation_pools"])
        else:
            pools = ipam.default_pools(cidr, gateway)
        for ns in attrs.get("dns_nameservers", []):
            if attrs["dns_nameservers"].count(ns) > 1:
                raise bad_request("InvalidInput", f"Invalid input for operation: Duplicate nameserver '{ns}'.")
        subnet_id = new_id()
        state: dict[str, Any] = {}

        def write() -> dict[str, Any]:
            with self.deps.db.session() as session:
                net = lookup.network(session, ctx, attrs["network_id"])
                project = owner_project(ctx, dict(attrs))
                authorize(self.deps, ctx, "create_subnet", {"project_id": net.project_id})
                if project != net.project_id and not ctx.is_admin:
                    raise lookup.not_found("Network", net.id)
                quotas.check(session, self.deps, project, "subnet")
                _check_overlap(session, net.id, cidr)
                row = models.Subnet(
                    id=subnet_id,
                    network_id=net.id,
                    project_id=project,
                    name=attrs.get("name", ""),
                    description=attrs.get("description", ""),
                    ip_version=attrs["ip_version"],
                    cidr=cidr,
                    gateway_ip=gateway,
                    enable_dhcp=attrs.get("enable_dhcp", True),
                    allocation_pools=pools,
                    dns_nameservers=attrs.get("dns_nameservers", []),
                    host_routes=attrs.get("host_routes", []),
                    ipv6_ra_mode=attrs.get("ipv6_ra_mode"),
                    ipv6_address_mode=attrs.get("ipv6_address_mode"),
                )
                session.add(row)
                session.flush()
                state["metadata_port"] = sync_metadata_port(session, self.deps, net)
                return views.subnet(row, net.external)

        doc = retry_on_conflict(write, lambda _e: None)
        self._push(doc["network_id"], subnet_id, state.get("metadata_port"))
        return doc

    def _push(self, network_id: str, subnet_id: str, metadata_port: str | None) -> None:
        self.deps.dataplane.subnet(subnet_id)
        if metadata_port:
            self.deps.dataplane.port(metadata_port)
        self.deps.dataplane.network_routers(network_id)

    def show(self, ctx: RequestContext, subnet_id: str) -> dict[str, Any]:
        with self.deps.db.reader() as session:
            row = lookup.subnet(session, ctx, subnet_id)
            return views.subnet(row, _external(session, row))

    def list(self, ctx: RequestContext, params: Any = ()) -> list[dict[str, Any]]:
        with self.deps.db.reader() as session:
            n = models.Network
            query = sa.select(models.Subnet, n.external).join(n, models.Subnet.network_id == n.id)
            if not ctx.is_admin:
                query = query.where(
                    sa.or_(models.Subnet.project_id == ctx.project_id, n.shared.is_(True), n.external.is_(True))
                )
            return [views.subnet(r, external) for r, external in session.execute(query)]

    def update(self, ctx: RequestContext, subnet_id: str, body: Any) -> dict[str, Any]:
        attrs = parse("subnet", body, create=False)
        with self.deps.db.session() as session:
            row = lookup.subnet(session, ctx, subnet_id)
            authorize(self.deps, ctx, "update_subnet", {"project_id": row.project_id})
            if "gateway_ip" in attrs:
                _check_gateway(row.cidr, attrs["gateway_ip"])
                if attrs["gateway_ip"] and _in_pools(attrs["gateway_ip"], row.allocation_pools):
                    raise conflict(
                        "GatewayConflictWithAllocationPools",
                        f"Gateway ip {attrs['gateway_ip']} conflicts with allocation pool.",
                    )
                row.gateway_ip = attrs["gateway_ip"]
            if "allocation_pools" in attrs:
                row.allocation_pools = ipam.validate_pools(row.cidr, row.gateway_ip, attrs["allocation_pools"])
            for key in ("name", "description", "enable_dhcp", "dns_nameservers", "host_routes"):
                if key in attrs:
                    setattr(row, key, attrs[key])
            row.revision_number += 1
            session.flush()
            net = session.get(models.Network, row.network_id)
            metadata_port = sync_metadata_port(session, self.deps, net) if net else None
            doc = views.subnet(row, bool(net and net.external))
        self._push(doc["network_id"], subnet_id, metadata_port)
        return doc

    def delete(self, ctx: RequestContext, subnet_id: str) -> None:
        with self.deps.db.session() as session:
            row = lookup.subnet(session, ctx, subnet_id)
            authorize(self.deps, ctx, "delete_subnet", {"project_id": row.project_id})
            if not ctx.is_admin and row.project_id != ctx.project_id:
                raise lookup.not_found("Subnet", subnet_id)
            users = session.scalars(
                sa.select(models.Port)
                .join(models.IPAllocation, models.IPAllocation.port_id == models.Port.id)
                .where(models.IPAllocation.subnet_id == subnet_id)
            ).all()
            if any(p.device_owner not in lookup.DHCP_OWNERS for p in users):
                raise conflict(
                    "SubnetInUse",
                    f"Unable to complete operation on subnet {subnet_id}: One or more ports have an IP allocation "
                    "from this subnet.",
                )
            network_id = row.network_id
            session.execute(sa.delete(models.IPAllocation).where(models.IPAllocation.subnet_id == subnet_id))
            session.delete(row)
            session.flush()
            session.expire_all()
            net = session.get(models.Network, network_id)
            metadata_port = sync_metadata_port(session, self.deps, net) if net else None
        self._push(network_id, subnet_id, metadata_port)


def _external(session: Session, row: models.Subnet) -> bool:
    net = session.get(models.Network, row.network_id)
    return bool(net and net.external)


def _in_pools(address: str, pools: list[dict[str, str]]) -> bool:
    value = int(ipaddress.ip_address(address))
    return any(int(ipaddress.ip_address(p["start"])) <= value <= int(ipaddress.ip_address(p["end"])) for p in pools)
