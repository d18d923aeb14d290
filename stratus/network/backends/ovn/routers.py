"""Routers -> Logical_Router with its ports, gateway chassis, static routes, SNAT and dnat_and_snat rows."""

from __future__ import annotations

from typing import Any

from stratus.network.backends.ovn import names
from stratus.network.backends.ovn.writer import Writer
from stratus.network.messages import RouterInterface, RouterSpec


def _router_port(w: Writer, lr: Any, iface: RouterInterface, router_id: str, gateway: bool) -> Any:
    name = names.router_port(iface.port_id)
    ext = {
        names.NETWORK_NAME: names.switch(iface.network_id),
        names.ROUTER_NAME: router_id,
        names.SUBNET_IDS: " ".join(iface.subnet_ids),
        names.IS_EXT_GW: str(gateway),
    }
    columns = {"mac": iface.mac_address, "networks": list(iface.networks), "external_ids": ext}
    lrp = w.named("Logical_Router_Port", name)
    if lrp is None:
        lrp = w.insert("Logical_Router_Port", name=name, **columns)
    else:
        w.set(lrp, **columns)
    w.add_ref(lr, "ports", lrp)
    return lrp


def _gateway_chassis(w: Writer, lrp: Any, chassis: tuple[str, ...]) -> None:
    wanted = {f"{lrp.name}_{c}": (c, len(chassis) - i) for i, c in enumerate(chassis)}
    current = list(w.get(lrp, "gateway_chassis"))
    for gc in current:
        if gc.name not in wanted:
            w.remove_ref(lrp, "gateway_chassis", gc)
            w.delete(gc)
    have = {gc.name: gc for gc in current}
    for name, (chassis_name, priority) in wanted.items():
        gc = have.get(name)
        if gc is None:
            gc = w.insert("Gateway_Chassis", name=name, chassis_name=chassis_name, priority=priority)
            w.add_ref(lrp, "gateway_chassis", gc)
        else:
            w.set(gc, chassis_name=chassis_name, priority=priority)


def _sync_children(w: Writer, lr: Any, column: str, table: str, wanted: dict[tuple, dict[str, Any]], key: Any) -> None:
    """Make the rows of ``lr.<column>`` exactly ``wanted`` (key -> columns)."""
    existing = list(w.get(lr, column))
    todo = dict(wanted)
    for row in existing:
        k = key(row)
        if k in todo:
            w.set(row, **todo.pop(k))
        else:
            w.remove_ref(lr, column, row)
            w.delete(row)
    for columns in todo.values():
        w.add_ref(lr, column, w.insert(table, **columns))


def ensure_router(w: Writer, spec: RouterSpec, chassis: tuple[str, ...], distributed: bool) -> None:
    name = names.router(spec.id)
    ext = {
        names.ROUTER_NAME: spec.name,
        names.REVISION: str(spec.revision),
        names.GW_PORT_ID: spec.gateway.port_id if spec.gateway else "",
        "neutron:availability_zone_hints": "",
    }
    lr = w.named("Logical_Router", name)
    columns = {
        "external_ids": ext,
        "enabled": [spec.admin_state_up],
        "options": {"always_learn_from_arp_request": "false", "dynamic_neigh_routers": "true"},
    }
    if lr is None:
        lr = w.insert("Logical_Router", name=name, **columns)
    else:
        w.set(lr, **columns)
    ports = [_router_port(w, lr, i, spec.id, False) for i in spec.interfaces]
    if spec.gateway is not None:
        gw = _router_port(w, lr, spec.gateway, spec.id, True)
        _gateway_chassis(w, gw, chassis)
        ports.append(gw)
    keep = {p.name for p in ports}
    for lrp in list(w.get(lr, "ports")):
        if lrp.name not in keep:
            w.remove_ref(lr, "ports", lrp)
            w.delete(lrp)
    routes: dict[tuple, dict[str, Any]] = {}
    if spec.gateway is not None and spec.gateway_next_hop:
        routes[("0.0.0.0/0", spec.gateway_next_hop)] = {
            "ip_prefix": "0.0.0.0/0",
            "nexthop": spec.gateway_next_hop,
            "external_ids": {names.IS_EXT_GW: "true"},
        }
    for dest, hop in spec.routes:
        routes[(dest, hop)] = {"ip_prefix": dest, "nexthop": hop, "external_ids": {}}
    _sync_children(w, lr, "static_routes", "Logical_Router_Static_Route", routes, lambda r: (r.ip_prefix, r.nexthop))
    _sync_children(w, lr, "nat", "NAT", _nat_rows(spec, distributed), lambda r: (r.type, r.external_ip, r.logical_ip))


def _nat_rows(spec: RouterSpec, distributed: bool) -> dict[tuple, dict[str, Any]]:
    rows: dict[tuple, dict[str, Any]] = {}
    if spec.gateway is None:
        return rows
    gw_ip = spec.gateway.networks[0].split("/")[0]
    for cidr in spec.snat_cidrs:
        rows[("snat", gw_ip, cidr)] = {
            "type": "snat",
            "external_ip": gw_ip,
            "logical_ip": cidr,
            "external_ids": {names.ROUTER_NAME: names.router(spec.id)},
        }
    for fip in spec.floating_ips:
        ext = {
            names.FIP_ID: fip.id,
            names.ROUTER_NAME: names.router(spec.id),
            names.FIP_PORT_ID: fip.fixed_port_id,
            names.FIP_NETWORK_ID: fip.floating_network_id,
            names.FIP_EXTERNAL_MAC: fip.floating_port_mac,
        }
        rows[("dnat_and_snat", fip.floating_ip_address, fip.fixed_ip_address)] = {
            "type": "dnat_and_snat",
            "external_ip": fip.floating_ip_address,
            "logical_ip": fip.fixed_ip_address,
            "logical_port": [fip.fixed_port_id],
            "external_mac": [fip.floating_port_mac] if distributed else [],
            "external_ids": ext,
        }
    return rows


def delete_router(w: Writer, router_id: str) -> None:
    lr = w.named("Logical_Router", names.router(router_id))
    if lr is None:
        return
    for lrp in list(lr.ports):
        for gc in list(lrp.gateway_chassis):
            w.delete(gc)
        w.delete(lrp)
    for row in list(lr.nat) + list(lr.static_routes):
        w.delete(row)
    w.delete(lr)
