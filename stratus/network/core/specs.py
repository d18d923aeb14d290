"""Database rows -> the back end's desired-state dataclasses (``messages``)."""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.network import messages as m
from stratus.network import models
from stratus.network.conf import NetworkConfig
from stratus.network.core import macs
from stratus.network.core.routerports import FIP_OWNER, GATEWAY_OWNER, INTERFACE_OWNER
from stratus.network.core.subnets import METADATA_OWNER

METADATA_CIDR = "169.254.169.254/32"


def network(net: models.Network) -> m.NetworkSpec:
    return m.NetworkSpec(
        id=net.id,
        name=net.name,
        project_id=net.project_id,
        mtu=net.mtu,
        network_type=net.network_type,
        physical_network=net.physical_network or None,
        segmentation_id=net.segmentation_id if net.network_type == "vlan" else None,
        external=net.external,
        revision=net.revision_number,
    )


def metadata_ips(session: Session, network_id: str) -> dict[str, str]:
    """subnet id -> the metadata port's address on it."""
    query = (
        sa.select(models.IPAllocation)
        .join(models.Port, models.Port.id == models.IPAllocation.port_id)
        .where(models.Port.network_id == network_id, models.Port.device_owner == METADATA_OWNER)
    )
    return {a.subnet_id: a.ip_address for a in session.scalars(query)}


def dhcp_options(
    conf: NetworkConfig, sub: models.Subnet, net: models.Network, metadata_ip: str | None
) -> dict[str, str]:
    """OVN DHCPv4 options as Neutron's OVN driver writes them (lease_time, router, server_id, mtu, ...)."""
    server = sub.gateway_ip or metadata_ip
    if sub.ip_version != 4 or not sub.enable_dhcp or server is None:
        return {}
    opts = {
        "lease_time": str(conf.dhcp_lease_time),
        "server_id": server,
        "server_mac": macs.derived_mac(conf.mac_prefix, sub.id),
        "mtu": str(net.mtu),
    }
    if sub.gateway_ip:
        opts["router"] = sub.gateway_ip
    dns = list(sub.dns_nameservers) or list(conf.dns_servers)
    if dns:
        opts["dns_server"] = "{" + ", ".join(dns) + "}"
    routes = []
    if metadata_ip:
        routes.append((METADATA_CIDR, metadata_ip))
    routes += [(r["destination"], r["nexthop"]) for r in sub.host_routes]
    if sub.gateway_ip and routes:
        routes.append(("0.0.0.0/0", sub.gateway_ip))
    if routes:
        opts["classless_static_route"] = "{" + ", ".join(f"{d},{h}" for d, h in routes) + "}"
    return opts


def subnet(conf: NetworkConfig, sub: models.Subnet, net: models.Network, metadata_ip: str | None) -> m.SubnetSpec:
    return m.SubnetSpec(
        id=sub.id,
        network_id=sub.network_id,
        cidr=sub.cidr,
        ip_version=sub.ip_version,
        gateway_ip=sub.gateway_ip,
        enable_dhcp=sub.enable_dhcp,
        dhcp_options=dhcp_options(conf, sub, net, metadata_ip),
        revision=sub.revision_number,
    )


def port(p: models.Port, dhcp_subnets: set[str]) -> m.PortSpec | None:
    """None for floating IP ports (pure IPAM holders, no switch port, as in Neutron/OVN)."""
    if p.device_owner == FIP_OWNER:
        return None
    kind, router_port = "", None
    if p.device_owner == METADATA_OWNER:
        kind = "localport"
    elif p.device_owner in (INTERFACE_OWNER, GATEWAY_OWNER):
        kind, router_port = "router", f"lrp-{p.id}"
    fixed = tuple(m.FixedIp(a.subnet_id, a.ip_address) for a in p.fixed_ips)
    return m.PortSpec(
        id=p.id,
        network_id=p.network_id,
        name=p.name,
        project_id=p.project_id,
        mac_address=p.mac_address,
        fixed_ips=fixed,
        device_id=p.device_id,
        device_owner=p.device_owner,
        host_id=p.binding_host_id,
        admin_state_up=p.admin_state_up,
        port_security=p.port_security_enabled and kind == "",
        security_group_ids=tuple(sorted(g.security_group_id for g in p.security_groups)),
        allowed_address_pairs=tuple((a["ip_address"], a["mac_address"]) for a in p.allowed_address_pairs),
        kind=kind,
        router_port=router_port,
        dhcp_subnet_ids=tuple(f.subnet_id for f in fixed if f.subnet_id in dhcp_subnets) if kind == "" else (),
        revision=p.revision_number,
    )


def security_group(sg: models.SecurityGroup) -> m.SecurityGroupSpec:
    rules = tuple(
        m.RuleSpec(
            id=r.id,
            direction=r.direction,
            ethertype=r.ethertype,
            protocol=r.protocol,
            port_range_min=r.port_range_min,
            port_range_max=r.port_range_max,
            # the network it names: OVN matches on a network, the API keeps the prefix as given
            remote_ip_prefix=str(ipaddress.ip_network(r.remote_ip_prefix, strict=False))
            if r.remote_ip_prefix
            else None,
            remote_group_id=r.remote_group_id,
        )
        for r in sg.rules
    )
    return m.SecurityGroupSpec(
        id=sg.id, name=sg.name, project_id=sg.project_id, rules=rules, revision=sg.revision_number
    )


def _interface(session: Session, p: models.Port) -> m.RouterInterface:
    networks = []
    for alloc in p.fixed_ips:
        sub = session.get(models.Subnet, alloc.subnet_id)
        prefix = ipaddress.ip_network(sub.cidr).prefixlen if sub else 32
        networks.append(f"{alloc.ip_address}/{prefix}")
    return m.RouterInterface(
        port_id=p.id,
        network_id=p.network_id,
        mac_address=p.mac_address,
        networks=tuple(networks),
        subnet_ids=tuple(a.subnet_id for a in p.fixed_ips),
    )


def router(session: Session, r: models.Router) -> m.RouterSpec:
    gw_port = session.get(models.Port, r.gw_port_id) if r.gw_port_id else None
    gateway = _interface(session, gw_port) if gw_port else None
    next_hop = None
    if gw_port is not None:
        # The default route is IPv4 (0.0.0.0/0): its next hop is the gateway of the first IPv4 subnet.
        for alloc in gw_port.fixed_ips:
            sub = session.get(models.Subnet, alloc.subnet_id)
            if sub is not None and sub.ip_version == 4:
                next_hop = sub.gateway_ip
                break
    query = sa.select(models.Port).where(models.Port.device_id == r.id, models.Port.device_owner == INTERFACE_OWNER)
    ifaces = tuple(_interface(session, p) for p in session.scalars(query))
    snat: list[str] = []
    if gateway and r.enable_snat:
        for iface in ifaces:
            for subnet_id in iface.subnet_ids:
                sub = session.get(models.Subnet, subnet_id)
                if sub is not None and sub.ip_version == 4 and sub.cidr not in snat:
                    snat.append(sub.cidr)
    fips = []
    for fip in session.scalars(sa.select(models.FloatingIP).where(models.FloatingIP.router_id == r.id)):
        if fip.fixed_port_id and fip.fixed_ip_address:
            fport = session.get(models.Port, fip.floating_port_id)
            fips.append(
                m.FloatingIpNat(
                    id=fip.id,
                    floating_ip_address=fip.floating_ip_address,
                    fixed_ip_address=fip.fixed_ip_address,
                    fixed_port_id=fip.fixed_port_id,
                    floating_port_mac=fport.mac_address if fport else "",
                    floating_network_id=fip.floating_network_id,
                )
            )
    return m.RouterSpec(
        id=r.id,
        name=r.name,
        project_id=r.project_id,
        admin_state_up=r.admin_state_up,
        gateway=gateway if gateway and gateway.networks else None,
        gateway_next_hop=next_hop,
        enable_snat=r.enable_snat,
        interfaces=ifaces,
        routes=tuple((x["destination"], x["nexthop"]) for x in r.routes),
        snat_cidrs=tuple(snat) if gateway else (),
        floating_ips=tuple(sorted(fips, key=lambda f: f.id)),
        revision=r.revision_number,
    )


def dhcp_subnet_ids(session: Session, network_id: str | None = None) -> set[str]:
    query = sa.select(models.Subnet.id).where(models.Subnet.enable_dhcp.is_(True), models.Subnet.ip_version == 4)
    if network_id is not None:
        query = query.where(models.Subnet.network_id == network_id)
    return set(session.scalars(query))


def desired_state(session: Session, conf: NetworkConfig) -> m.DesiredState:
    """Everything the data plane should hold, read in one transaction."""
    nets = {n.id: n for n in session.scalars(sa.select(models.Network))}
    md: dict[str, str] = {}
    for net_id in nets:
        md.update(metadata_ips(session, net_id))
    subnets = tuple(
        subnet(conf, s, nets[s.network_id], md.get(s.id)) for s in session.scalars(sa.select(models.Subnet))
    )
    dhcp = {s.id for s in subnets if s.dhcp_options}
    ports = tuple(p for p in (port(x, dhcp) for x in session.scalars(sa.select(models.Port))) if p is not None)
    return m.DesiredState(
        networks=tuple(network(n) for n in nets.values()),
        subnets=subnets,
        security_groups=tuple(security_group(g) for g in session.scalars(sa.select(models.SecurityGroup))),
        ports=ports,
        routers=tuple(router(session, r) for r in session.scalars(sa.select(models.Router))),
    )


def _network_of(prefix: str | None) -> str | None:
    """The network a rule's prefix names: OVN matches on networks; the API keeps the prefix as given."""
    return str(ipaddress.ip_network(prefix, strict=False)) if prefix else None
