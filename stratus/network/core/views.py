"""ORM rows -> Neutron JSON documents (admin-only attributes shown to admins only)."""

from __future__ import annotations

from typing import Any

from stratus.core.context import RequestContext
from stratus.network import models

NO_SEGMENT = 0
"""Stored segmentation_id of flat networks (the unique key needs a value; rendered as null)."""


def _stamps(row: Any) -> dict[str, Any]:
    return {
        "created_at": row.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_at": row.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "revision_number": row.revision_number,
        "tags": [],
    }


def _owned(row: Any) -> dict[str, Any]:
    return {"project_id": row.project_id, "tenant_id": row.project_id}


def network(ctx: RequestContext, net: models.Network) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": net.id,
        "name": net.name,
        "description": net.description,
        **_owned(net),
        "admin_state_up": net.admin_state_up,
        "status": net.status,
        "shared": net.shared,
        "router:external": net.external,
        "mtu": net.mtu,
        "subnets": [s.id for s in net.subnets],
        "port_security_enabled": net.port_security_enabled,
        "availability_zone_hints": [],
        "availability_zones": ["nova"],
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        "is_default": False,
        "l2_adjacency": True,
        "dns_domain": "",
        **_stamps(net),
    }
    if ctx.is_admin:
        doc["provider:network_type"] = net.network_type
        doc["provider:physical_network"] = net.physical_network or None
        seg = net.segmentation_id
        doc["provider:segmentation_id"] = None if net.network_type == "flat" else seg
    return doc


def subnet(sub: models.Subnet, external: bool = False) -> dict[str, Any]:
    """``external``: whether the subnet's network is external (``router:external``, as the
    subnet-external-network extension shows it)."""
    return {
        "id": sub.id,
        "name": sub.name,
        "description": sub.description,
        **_owned(sub),
        "network_id": sub.network_id,
        "ip_version": sub.ip_version,
        "cidr": sub.cidr,
        "gateway_ip": sub.gateway_ip,
        "enable_dhcp": sub.enable_dhcp,
        "allocation_pools": list(sub.allocation_pools),
        "dns_nameservers": list(sub.dns_nameservers),
        "host_routes": list(sub.host_routes),
        "ipv6_ra_mode": sub.ipv6_ra_mode,
        "ipv6_address_mode": sub.ipv6_address_mode,
        "subnetpool_id": None,
        "segment_id": None,
        "service_types": [],
        "dns_publish_fixed_ip": False,
        "router:external": external,
        **_stamps(sub),
    }


def vif_details(datapath_type: str) -> dict[str, Any]:
    return {
        "port_filter": True,
        "connectivity": "l2",
        "bridge_name": "br-int",
        "datapath_type": datapath_type,
        "bound_drivers": {"0": "ovn"},
    }


def port(ctx: RequestContext, p: models.Port, datapath_type: str = "system") -> dict[str, Any]:
    doc: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        **_owned(p),
        "network_id": p.network_id,
        "mac_address": p.mac_address,
        "admin_state_up": p.admin_state_up,
        "status": p.status,
        "device_id": p.device_id,
        "device_owner": p.device_owner,
        "fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in p.fixed_ips],
        "security_groups": sorted(g.security_group_id for g in p.security_groups),
        "port_security_enabled": p.port_security_enabled,
        "allowed_address_pairs": list(p.allowed_address_pairs),
        "extra_dhcp_opts": [],
        "binding:vnic_type": p.binding_vnic_type,
        "dns_name": "",
        "dns_assignment": [],
        "propagate_uplink_status": False,
        **_stamps(p),
    }
    if ctx.is_admin:
        bound = bool(p.binding_host_id)
        doc["binding:host_id"] = p.binding_host_id
        doc["binding:profile"] = dict(p.binding_profile)
        doc["binding:vif_type"] = "ovs" if bound else "unbound"
        doc["binding:vif_details"] = vif_details(datapath_type) if bound else {}
    return doc


def rule(r: models.SecurityGroupRule) -> dict[str, Any]:
    return {
        "id": r.id,
        "security_group_id": r.security_group_id,
        **_owned(r),
        "direction": r.direction,
        "ethertype": r.ethertype,
        "protocol": r.protocol,
        "port_range_min": r.port_range_min,
        "port_range_max": r.port_range_max,
        "remote_ip_prefix": r.remote_ip_prefix,
        "remote_group_id": r.remote_group_id,
        "remote_address_group_id": None,
        "normalized_cidr": r.remote_ip_prefix,
        "description": r.description,
        "belongs_to_default_sg": None,
        **_stamps(r),
    }


def security_group(sg: models.SecurityGroup, is_default: bool = False) -> dict[str, Any]:
    return {
        "id": sg.id,
        "name": sg.name,
        "description": sg.description,
        **_owned(sg),
        "stateful": sg.stateful,
        "shared": False,
        "security_group_rules": [rule(r) for r in sg.rules],
        **_stamps(sg),
    }


def router(r: models.Router, gw_port: models.Port | None) -> dict[str, Any]:
    gateway = None
    if gw_port is not None:
        gateway = {
            "network_id": gw_port.network_id,
            "enable_snat": r.enable_snat,
            "external_fixed_ips": [{"subnet_id": a.subnet_id, "ip_address": a.ip_address} for a in gw_port.fixed_ips],
        }
    return {
        "id": r.id,
        "name": r.name,
        "description": r.description,
        **_owned(r),
        "admin_state_up": r.admin_state_up,
        "status": r.status,
        "external_gateway_info": gateway,
        "routes": list(r.routes),
        "distributed": False,
        "ha": False,
        "availability_zone_hints": [],
        "availability_zones": ["nova"],
        "flavor_id": None,
        "enable_ndp_proxy": False,
        **_stamps(r),
    }


def floating_ip(f: models.FloatingIP) -> dict[str, Any]:
    return {
        "id": f.id,
        **_owned(f),
        "description": f.description,
        "floating_network_id": f.floating_network_id,
        "floating_ip_address": f.floating_ip_address,
        "port_id": f.fixed_port_id,
        "fixed_ip_address": f.fixed_ip_address,
        "router_id": f.router_id,
        "status": f.status,
        "dns_name": "",
        "dns_domain": "",
        "qos_policy_id": None,
        "port_forwardings": [],
        **_stamps(f),
    }
