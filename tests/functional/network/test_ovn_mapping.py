"""The OVN mapping against a real NB ovsdb-server: switches, ports, DHCP, groups/ACLs, routers, NAT."""

from __future__ import annotations

import json
from typing import Any

from tests.functional.network.conftest import Api
from tests.functional.network.ovn_server import NbServer, needs_ovn, wait_for

pytestmark = needs_ovn


def _get(nb: NbServer, table: str, record: str, column: str) -> Any:
    return nb.nbctl("get", table, record, column)


def test_network_subnet_port(ovn_api: Api, nb_server: NbServer) -> None:
    net, sub = ovn_api.network_with_subnet("10.0.0.0/24", dns_nameservers=["8.8.8.8"])
    ls = f"neutron-{net['id']}"
    assert nb_server.find("Logical_Switch", "external_ids:neutron\\:network_name=net") == [ls]
    assert _get(nb_server, "Logical_Switch", ls, "external_ids:neutron\\:mtu") == '"1442"'
    dhcp = nb_server.find("DHCP_Options", f"external_ids:subnet_id={sub['id']}", column="_uuid")
    assert len(dhcp) == 1
    options = nb_server.nbctl("dhcp-options-get-options", dhcp[0]).splitlines()
    meta = next(p for p in ovn_api.ok("GET", "/v2.0/ports")["ports"] if p["device_owner"] == "network:distributed")
    meta_ip = meta["fixed_ips"][0]["ip_address"]
    for expected in (
        "lease_time=43200",
        "router=10.0.0.1",
        "server_id=10.0.0.1",
        "mtu=1442",
        "dns_server={8.8.8.8}",
        f"classless_static_route={{169.254.169.254/32,{meta_ip}, 0.0.0.0/0,10.0.0.1}}",
    ):
        assert expected in options, options
    assert any(o.startswith("server_mac=fa:16:3e:") for o in options)
    assert _get(nb_server, "Logical_Switch_Port", meta["id"], "type") == "localport"

    port = ovn_api.create("port", network_id=net["id"], allowed_address_pairs=[{"ip_address": "10.0.0.200"}])
    ip, mac = port["fixed_ips"][0]["ip_address"], port["mac_address"]
    assert nb_server.nbctl("lsp-get-addresses", port["id"]) == f"{mac} {ip}"
    assert nb_server.nbctl("lsp-get-port-security", port["id"]) == f"{mac} {ip} 10.0.0.200"
    assert nb_server.nbctl("lsp-get-dhcpv4-options", port["id"]).startswith(dhcp[0])
    ext = nb_server.nbctl("get", "Logical_Switch_Port", port["id"], "external_ids")
    assert f'"neutron:network_name"=neutron-{net["id"]}' in ext and '"neutron:device_owner"=""' in ext
    assert f'"neutron:cidrs"="{ip}/24"' in ext
    pg = "pg_" + port["security_groups"][0].replace("-", "_")
    assert port["id"] in nb_server.nbctl("--bare", "--columns=ports", "list", "Port_Group", pg) or _lsp_in_pg(
        nb_server, port["id"], pg
    )
    assert _lsp_in_pg(nb_server, port["id"], "neutron_pg_drop")

    ovn_api.ok(
        "PUT", f"/v2.0/ports/{port['id']}", json={"port": {"port_security_enabled": False, "allowed_address_pairs": []}}
    )
    assert nb_server.nbctl("lsp-get-port-security", port["id"]) == ""
    assert nb_server.nbctl("lsp-get-addresses", port["id"]) == f"{mac} {ip}\nunknown"
    assert not _lsp_in_pg(nb_server, port["id"], "neutron_pg_drop")
    ovn_api.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    assert nb_server.find("Logical_Switch_Port", f"name={port['id']}") == []


def _lsp_in_pg(nb: NbServer, port_id: str, pg: str) -> bool:
    uuid = nb.find("Logical_Switch_Port", f"name={port_id}", column="_uuid")
    members = nb.nbctl("--bare", "--columns=ports", "find", "Port_Group", f"name={pg}")
    return bool(uuid) and uuid[0] in members


def test_security_group_acls(ovn_api: Api, nb_server: NbServer) -> None:
    sg = ovn_api.create("security_group", name="web")
    rule = ovn_api.create(
        "security_group_rule",
        security_group_id=sg["id"],
        direction="ingress",
        protocol="tcp",
        port_range_min=22,
        port_range_max=22,
        remote_ip_prefix="192.0.2.0/24",
    )
    pg = "pg_" + sg["id"].replace("-", "_")
    acls = nb_server.nbctl("acl-list", pg)
    assert (
        f"to-lport  1002 (outport == @{pg} && ip4 && ip4.src == 192.0.2.0/24 && tcp && tcp.dst == 22) allow-related"
        in acls
    )
    assert f"from-lport  1002 (inport == @{pg} && ip4) allow-related" in acls
    assert f"from-lport  1002 (inport == @{pg} && ip6) allow-related" in acls
    ids = nb_server.find("ACL", f'external_ids:neutron\\:security_group_rule_id="{rule["id"]}"', column="_uuid")
    assert len(ids) == 1
    default = next(g for g in ovn_api.ok("GET", "/v2.0/security-groups")["security_groups"] if g["name"] == "default")
    dpg = "pg_" + default["id"].replace("-", "_")
    assert f"outport == @{dpg} && ip4 && ip4.src == ${dpg}_ip4" in nb_server.nbctl("acl-list", dpg)
    ovn_api.ok("DELETE", f"/v2.0/security-group-rules/{rule['id']}", status=204)
    assert "tcp.dst == 22" not in nb_server.nbctl("acl-list", pg)
    ovn_api.ok("DELETE", f"/v2.0/security-groups/{sg['id']}", status=204)
    assert nb_server.find("Port_Group", f"name={pg}") == []
    assert "(inport == @neutron_pg_drop && ip) drop" in nb_server.nbctl("acl-list", "neutron_pg_drop")


def test_router_nat_and_provider_network(ovn_api: Api, nb_server: NbServer) -> None:
    ext, esub = ovn_api.external_network()
    localnet = f"provnet-{ext['id']}"
    assert _get(nb_server, "Logical_Switch_Port", localnet, "type") == "localnet"
    assert _get(nb_server, "Logical_Switch_Port", localnet, "options:network_name") == "public"
    net, sub = ovn_api.network_with_subnet()
    router = ovn_api.create("router", name="r1", external_gateway_info={"network_id": ext["id"]})
    info = ovn_api.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", json={"subnet_id": sub["id"]})
    lr = f"neutron-{router['id']}"
    gw_ip = router["external_gateway_info"]["external_fixed_ips"][0]["ip_address"]
    gw_lrp = nb_server.find("Logical_Router_Port", "external_ids:neutron\\:is_ext_gw=True")
    assert len(gw_lrp) == 1
    assert nb_server.nbctl("lrp-get-gateway-chassis", gw_lrp[0]).split()[0] == f"{gw_lrp[0]}_gw1"
    assert _get(nb_server, "Logical_Router_Port", f"lrp-{info['port_id']}", "networks") == '["10.0.0.1/24"]'
    assert _get(nb_server, "Logical_Switch_Port", info["port_id"], "type") == "router"
    assert _get(nb_server, "Logical_Switch_Port", info["port_id"], "options:router-port") == f"lrp-{info['port_id']}"
    nat = nb_server.nbctl("lr-nat-list", lr)
    assert any(line.split()[:3] == ["snat", gw_ip, "10.0.0.0/24"] for line in nat.splitlines()), nat
    assert "0.0.0.0/0                172.24.4.1" in nb_server.nbctl("lr-route-list", lr)

    port = ovn_api.create("port", network_id=net["id"])
    fip = ovn_api.create("floatingip", floating_network_id=ext["id"], port_id=port["id"])
    rows = json.loads(
        nb_server.nbctl(
            "--format=json",
            "--columns=type,external_ip,logical_ip,logical_port,external_ids",
            "find",
            "NAT",
            "type=dnat_and_snat",
        )
    )["data"]
    assert (
        len(rows) == 1 and rows[0][1] == fip["floating_ip_address"] and rows[0][2] == port["fixed_ips"][0]["ip_address"]
    )
    assert rows[0][3] == port["id"]
    ovn_api.ok("PUT", f"/v2.0/floatingips/{fip['id']}", json={"floatingip": {"port_id": None}})
    assert nb_server.find("NAT", "type=dnat_and_snat", column="_uuid") == []
    ovn_api.ok(
        "PUT",
        f"/v2.0/routers/{router['id']}",
        json={"router": {"routes": [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.9"}]}},
    )
    assert "192.168.0.0/16" in nb_server.nbctl("lr-route-list", lr)
    ovn_api.ok("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", json={"subnet_id": sub["id"]})
    assert "10.0.0.0/24" not in nb_server.nbctl("lr-nat-list", lr)
    ovn_api.ok("DELETE", f"/v2.0/routers/{router['id']}", status=204)
    assert nb_server.find("Logical_Router", f"name={lr}") == []
    wait_for(lambda: nb_server.find("Gateway_Chassis", column="_uuid") == [], 5, "gateway chassis rows to go")


def test_port_status_from_nb(ovn_api: Api, nb_server: NbServer) -> None:
    from stratus.core.bus import Bus

    net, _ = ovn_api.network_with_subnet()
    port = ovn_api.create("port", network_id=net["id"], device_id="vm-1")
    events: list[tuple[str, dict]] = []
    ovn_api.service.dataplane.status_listeners.append(lambda e, _p, payload: events.append((e, payload)))
    with Bus("memory://") as bus:
        seen: list[tuple[str, dict]] = []
        bus.subscribe("network.port.*", lambda e, payload: seen.append((e, payload)))
        ovn_api.service.dataplane.bus = bus
        nb_server.nbctl("set", "Logical_Switch_Port", port["id"], "up=true")
        wait_for(lambda: ovn_api.ok("GET", f"/v2.0/ports/{port['id']}")["port"]["status"] == "ACTIVE", 10, "ACTIVE")
        wait_for(lambda: bool(seen), 10, "the network.port.up notification")
        assert seen[0][0] == "network.port.up" and seen[0][1]["port_id"] == port["id"]
        assert seen[0][1]["device_id"] == "vm-1"
        nb_server.nbctl("set", "Logical_Switch_Port", port["id"], "up=false")
        wait_for(lambda: ovn_api.ok("GET", f"/v2.0/ports/{port['id']}")["port"]["status"] == "DOWN", 10, "DOWN")
        ovn_api.service.dataplane.bus = None
    assert [e for e, _ in events] == ["network.port.up", "network.port.down"]
