"""Networks, subnets and ports -> Logical_Switch, DHCP_Options, Logical_Switch_Port (and port group membership)."""

from __future__ import annotations

import ipaddress
from typing import Any

from stratus.network.backends.ovn import acls, names
from stratus.network.backends.ovn.writer import Writer
from stratus.network.messages import NetworkSpec, PortSpec, SubnetSpec

SWITCH_OTHER_CONFIG = {"mcast_snoop": "false", "mcast_flood_unregistered": "false", "vlan-passthru": "false"}


def ensure_network(w: Writer, spec: NetworkSpec) -> Any:
    ext = {
        names.NETWORK_NAME: spec.name,
        names.MTU: str(spec.mtu),
        names.REVISION: str(spec.revision),
        "neutron:availability_zone_hints": "",
    }
    ls = w.named("Logical_Switch", names.switch(spec.id))
    if ls is None:
        ls = w.insert("Logical_Switch", name=names.switch(spec.id), external_ids=ext, other_config=SWITCH_OTHER_CONFIG)
    else:
        w.set(ls, external_ids=ext, other_config=SWITCH_OTHER_CONFIG)
    localnet = names.localnet(spec.id)
    existing = w.named("Logical_Switch_Port", localnet)
    if spec.network_type in ("flat", "vlan") and spec.physical_network:
        columns = {
            "type": "localnet",
            "addresses": ["unknown"],
            "options": {"network_name": spec.physical_network, "mcast_flood": "false", "mcast_flood_reports": "true"},
            "tag": [spec.segmentation_id] if spec.network_type == "vlan" and spec.segmentation_id else [],
            "external_ids": {},
        }
        if existing is None:
            existing = w.insert("Logical_Switch_Port", name=localnet, **columns)
        else:
            w.set(existing, **columns)
        w.add_ref(ls, "ports", existing)
    elif existing is not None:
        w.remove_ref(ls, "ports", existing)
        w.delete(existing)
    return ls


def delete_network(w: Writer, network_id: str) -> None:
    ls = w.named("Logical_Switch", names.switch(network_id))
    if ls is not None:
        for port in list(ls.ports):
            w.delete(port)
        w.delete(ls)


def ensure_subnet(w: Writer, spec: SubnetSpec) -> None:
    rows = [r for r in w.with_id("DHCP_Options", names.DHCP_SUBNET_ID, spec.id) if "port_id" not in r.external_ids]
    if not spec.dhcp_options:
        for row in rows:
            w.delete(row)
        return
    ext = {names.DHCP_SUBNET_ID: spec.id, names.REVISION: str(spec.revision)}
    if not rows:
        w.insert("DHCP_Options", cidr=spec.cidr, options=spec.dhcp_options, external_ids=ext)
        return
    w.set(rows[0], cidr=spec.cidr, options=spec.dhcp_options, external_ids=ext)
    for extra in rows[1:]:
        w.delete(extra)


def delete_subnet(w: Writer, subnet_id: str) -> None:
    for row in w.with_id("DHCP_Options", names.DHCP_SUBNET_ID, subnet_id):
        w.delete(row)


def _cidrs(spec: PortSpec, prefixes: dict[str, int]) -> str:
    return " ".join(f"{f.ip_address}/{prefixes.get(f.subnet_id, 32)}" for f in spec.fixed_ips)


def port_columns(w: Writer, spec: PortSpec) -> dict[str, Any]:
    """Column values of a port's Logical_Switch_Port row."""
    ips = [f.ip_address for f in spec.fixed_ips]
    address = " ".join([spec.mac_address, *ips])
    dhcp = []
    for subnet_id in spec.dhcp_subnet_ids:
        rows = [
            r for r in w.with_id("DHCP_Options", names.DHCP_SUBNET_ID, subnet_id) if "port_id" not in r.external_ids
        ]
        if rows and ipaddress.ip_network(rows[0].cidr).version == 4:
            dhcp = [rows[0]]
            break
    prefixes = {}
    for row in w.rows("DHCP_Options"):
        if names.DHCP_SUBNET_ID in row.external_ids:
            prefixes[row.external_ids[names.DHCP_SUBNET_ID]] = ipaddress.ip_network(row.cidr).prefixlen
    ext = {
        names.PORT_NAME: spec.name,
        names.DEVICE_ID: spec.device_id,
        names.DEVICE_OWNER: spec.device_owner,
        names.CIDRS: _cidrs(spec, prefixes),
        names.PROJECT_ID: spec.project_id,
        names.NETWORK_NAME: names.switch(spec.network_id),
        names.SECURITY_GROUP_IDS: " ".join(spec.security_group_ids),
        names.HOST_ID: spec.host_id,
        names.REVISION: str(spec.revision),
        "neutron:port_fip": "",
    }
    columns: dict[str, Any] = {"external_ids": ext, "enabled": [spec.admin_state_up], "dhcpv4_options": dhcp}
    if spec.kind == "router":
        options = {"router-port": spec.router_port or names.router_port(spec.id)}
        if spec.device_owner == "network:router_gateway":
            options.update({"nat-addresses": "router", "exclude-lb-vips-from-garp": "true"})
        columns.update(type="router", addresses=["router"], port_security=[], options=options, dhcpv4_options=[])
        return columns
    if spec.kind == "localport":
        columns.update(type="localport", addresses=[address], port_security=[], options={}, dhcpv4_options=[])
        return columns
    security = []
    if spec.port_security:
        pair_ips: dict[str, list[str]] = {}
        for ip, mac in spec.allowed_address_pairs:
            pair_ips.setdefault(mac, []).append(ip)
        security = [" ".join([spec.mac_address, *ips, *pair_ips.pop(spec.mac_address, [])])]
        security += [" ".join([mac, *extra]) for mac, extra in pair_ips.items()]
    addresses = [address] if spec.port_security else [address, "unknown"]
    options = {"requested-chassis": spec.host_id} if spec.host_id else {}
    options["mcast_flood_reports"] = "true"
    columns.update(type="", addresses=addresses, port_security=security, options=options)
    return columns


def ensure_drop_group(w: Writer) -> Any:
    pg = w.named("Port_Group", names.DROP_PORT_GROUP)
    if pg is None:
        pg = w.insert("Port_Group", name=names.DROP_PORT_GROUP, external_ids={})
    have = {(a.direction, a.match) for a in w.get(pg, "acls")}
    for acl in acls.drop_acls():
        if (acl["direction"], acl["match"]) not in have:
            w.add_ref(pg, "acls", w.insert("ACL", **acl))
    return pg


def ensure_group_row(w: Writer, sg_id: str) -> Any:
    pg = w.named("Port_Group", names.port_group(sg_id))
    if pg is None:
        pg = w.insert("Port_Group", name=names.port_group(sg_id), external_ids={names.SECURITY_GROUP_ID: sg_id})
    return pg


def ensure_port(w: Writer, spec: PortSpec) -> None:
    ls = w.named("Logical_Switch", names.switch(spec.network_id))
    if ls is None:
        raise LookupError(f"switch {names.switch(spec.network_id)} is not in the NB DB")
    lsp = w.named("Logical_Switch_Port", spec.id)
    columns = port_columns(w, spec)
    old_groups: set[str] = set()
    was_secured = False
    if lsp is None:
        lsp = w.insert("Logical_Switch_Port", name=spec.id, **columns)
    else:
        old_groups = set(lsp.external_ids.get(names.SECURITY_GROUP_IDS, "").split())
        was_secured = bool(lsp.type == "" and lsp.port_security)
        w.set(lsp, **columns)
    # An existing switch port is always in its switch: OVSDB deletes unreferenced (non-root) ports.
    if w.thorough or lsp in w._new:
        w.add_ref(ls, "ports", lsp)
    wanted = {names.port_group(g) for g in spec.security_group_ids}
    secured = spec.kind == "" and spec.port_security
    if secured:
        wanted.add(names.DROP_PORT_GROUP)
        ensure_drop_group(w)
    for sg_id in spec.security_group_ids:
        ensure_group_row(w, sg_id)
    if w.thorough:  # a resync pass: look at every group's members
        for pg in w.rows("Port_Group"):
            if pg.name in wanted:
                w.add_ref(pg, "ports", lsp)
            elif pg.name.startswith("pg_") or pg.name == names.DROP_PORT_GROUP:
                w.remove_ref(pg, "ports", lsp)
        return
    # one push: change only what the port's last push recorded (its external_ids and port_security)
    stale = {names.port_group(g) for g in old_groups - set(spec.security_group_ids)}
    if was_secured and not secured:
        stale.add(names.DROP_PORT_GROUP)
    for name in wanted:
        w.add_ref(w.named("Port_Group", name), "ports", lsp, check=False)
    for name in stale:
        pg = w.named("Port_Group", name)
        if pg is not None:
            w.remove_ref(pg, "ports", lsp, check=False)


def delete_port(w: Writer, port_id: str) -> None:
    """Port group references are weak (they vanish with the row); the switch's strong one is removed."""
    lsp = w.named("Logical_Switch_Port", port_id)
    if lsp is None:
        return
    ls = w.named("Logical_Switch", lsp.external_ids.get(names.NETWORK_NAME, ""))
    if ls is not None and not w.thorough:
        w.remove_ref(ls, "ports", lsp, check=False)
    else:
        for switch in w.rows("Logical_Switch"):
            w.remove_ref(switch, "ports", lsp)
    w.delete(lsp)
