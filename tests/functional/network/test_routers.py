"""Routers (gateway, interfaces, extra routes) and floating IPs."""

from __future__ import annotations

from typing import Any

from tests.functional.network.conftest import Api


def _router(api: Api, ext_id: str | None = None, as_: str = "member-a") -> dict[str, Any]:
    info = {"external_gateway_info": {"network_id": ext_id}} if ext_id else {}
    return api.create("router", as_, name="r", **info)


def _attach(api: Api, router_id: str, as_: str = "member-a", **body: str) -> Any:
    return api("PUT", f"/v2.0/routers/{router_id}/add_router_interface", as_, json=body)


def test_router_with_gateway(api: Api) -> None:
    ext, esub = api.external_network()
    router = _router(api, ext["id"])
    gw = router["external_gateway_info"]
    assert gw["network_id"] == ext["id"] and gw["enable_snat"] is True
    assert gw["external_fixed_ips"][0]["subnet_id"] == esub["id"]
    plain = api.create("network")
    bad = api("POST", "/v2.0/routers", json={"router": {"external_gateway_info": {"network_id": plain["id"]}}})
    api.error(bad, 400)
    cleared = api.ok("PUT", f"/v2.0/routers/{router['id']}", json={"router": {"external_gateway_info": {}}})
    assert cleared["router"]["external_gateway_info"] is None
    fixed = {"network_id": ext["id"], "external_fixed_ips": [{"ip_address": "172.24.4.100"}]}
    api.error(api("PUT", f"/v2.0/routers/{router['id']}", json={"router": {"external_gateway_info": fixed}}), 403)
    admin = api.ok("PUT", f"/v2.0/routers/{router['id']}", "admin", json={"router": {"external_gateway_info": fixed}})
    assert admin["router"]["external_gateway_info"]["external_fixed_ips"][0]["ip_address"] == "172.24.4.100"


def test_interfaces_by_subnet_and_port(api: Api) -> None:
    net, sub = api.network_with_subnet()
    router = _router(api)
    info = _attach(api, router["id"], subnet_id=sub["id"]).json()
    assert info["subnet_id"] == sub["id"] and info["id"] == router["id"]
    port = api.ok("GET", f"/v2.0/ports/{info['port_id']}")["port"]
    assert port["device_owner"] == "network:router_interface" and port["fixed_ips"][0]["ip_address"] == "10.0.0.1"
    api.error(_attach(api, router["id"], subnet_id=sub["id"]), 400)
    api.error(api("DELETE", f"/v2.0/ports/{info['port_id']}"), 409)
    api.error(api("DELETE", f"/v2.0/routers/{router['id']}"), 409, "RouterInUse")
    net2, sub2 = api.network_with_subnet("10.20.0.0/24")
    own = api.create("port", network_id=net2["id"])
    by_port = _attach(api, router["id"], port_id=own["id"]).json()
    assert by_port["port_id"] == own["id"]
    api.error(_attach(api, router["id"], port_id=own["id"]), 409)
    overlapping_net, overlapping = api.network_with_subnet("10.0.0.0/25")
    api.error(_attach(api, router["id"], subnet_id=overlapping["id"]), 400)
    api.error(_attach(api, router["id"]), 400)
    api.error(_attach(api, router["id"], subnet_id=sub2["id"], port_id=own["id"]), 400)
    removed = api.ok("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", json={"subnet_id": sub["id"]})
    assert removed["port_id"] == info["port_id"]
    api.error(api("GET", f"/v2.0/ports/{info['port_id']}"), 404)
    gone = api("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", json={"subnet_id": sub["id"]})
    api.error(gone, 404)
    api.ok("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", json={"port_id": own["id"]})
    api.ok("DELETE", f"/v2.0/routers/{router['id']}", status=204)


def test_subnet_without_gateway_and_foreign_subnet(api: Api) -> None:
    net = api.create("network")
    sub = api.create("subnet", network_id=net["id"], cidr="10.4.0.0/24", ip_version=4, gateway_ip=None)
    router = _router(api)
    api.error(_attach(api, router["id"], subnet_id=sub["id"]), 400)
    _, theirs = api.network_with_subnet("10.30.0.0/24", as_="member-b")
    api.error(_attach(api, router["id"], subnet_id=theirs["id"]), 404)


def test_extra_routes(api: Api) -> None:
    net, sub = api.network_with_subnet()
    router = _router(api)
    _attach(api, router["id"], subnet_id=sub["id"])
    routes = [{"destination": "192.168.0.0/16", "nexthop": "10.0.0.5"}]
    updated = api.ok("PUT", f"/v2.0/routers/{router['id']}", json={"router": {"routes": routes}})["router"]
    assert updated["routes"] == routes
    bad = [{"destination": "192.168.0.0/16", "nexthop": "172.16.0.1"}]
    api.error(api("PUT", f"/v2.0/routers/{router['id']}", json={"router": {"routes": bad}}), 400, "InvalidRoutes")
    cleared = api.ok("PUT", f"/v2.0/routers/{router['id']}", json={"router": {"routes": None}})["router"]
    assert cleared["routes"] == []


def _topology(api: Api) -> tuple[dict, dict, dict, dict]:
    ext, _ = api.external_network()
    net, sub = api.network_with_subnet()
    router = _router(api, ext["id"])
    _attach(api, router["id"], subnet_id=sub["id"])
    port = api.create("port", network_id=net["id"])
    return ext, router, port, sub


def test_floating_ip_lifecycle(api: Api) -> None:
    ext, router, port, sub = _topology(api)
    fip = api.create("floatingip", floating_network_id=ext["id"])
    assert fip["status"] == "DOWN" and fip["port_id"] is None and fip["router_id"] is None
    assert fip["floating_ip_address"].startswith("172.24.4.")
    body = {"floatingip": {"port_id": port["id"]}}
    assoc = api.ok("PUT", f"/v2.0/floatingips/{fip['id']}", json=body)["floatingip"]
    assert assoc["router_id"] == router["id"] and assoc["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert assoc["status"] == "ACTIVE"
    spec = api.service.backend.objects["routers"][router["id"]]  # type: ignore[attr-defined]
    assert spec.floating_ips[0].floating_ip_address == fip["floating_ip_address"]
    assert spec.snat_cidrs == (sub["cidr"],)
    second = api(
        "POST", "/v2.0/floatingips", json={"floatingip": {"floating_network_id": ext["id"], "port_id": port["id"]}}
    )
    api.error(second, 409, "FloatingIPPortAlreadyAssociated")
    busy = api("PUT", f"/v2.0/routers/{router['id']}/remove_router_interface", json={"subnet_id": sub["id"]})
    api.error(busy, 409, "RouterInterfaceInUseByFloatingIP")
    gw = api("PUT", f"/v2.0/routers/{router['id']}", json={"router": {"external_gateway_info": {}}})
    api.error(gw, 409)
    off = api.ok("PUT", f"/v2.0/floatingips/{fip['id']}", json={"floatingip": {"port_id": None}})["floatingip"]
    assert off["port_id"] is None and off["status"] == "DOWN"
    api.ok("DELETE", f"/v2.0/floatingips/{fip['id']}", status=204)
    api.error(api("GET", f"/v2.0/floatingips/{fip['id']}"), 404, "FloatingIPNotFound")


def test_floating_ip_errors(api: Api) -> None:
    ext, router, port, sub = _topology(api)
    plain = api.create("network")
    api.error(api("POST", "/v2.0/floatingips", json={"floatingip": {"floating_network_id": plain["id"]}}), 400)
    missing = {"floating_network_id": "00000000-0000-0000-0000-000000000000"}
    api.error(api("POST", "/v2.0/floatingips", json={"floatingip": missing}), 404, "NetworkNotFound")
    net_b, _ = api.network_with_subnet("10.40.0.0/24", as_="member-b")
    their_port = api.create("port", "member-b", network_id=net_b["id"])
    body = {"floatingip": {"floating_network_id": ext["id"], "port_id": their_port["id"]}}
    api.error(api("POST", "/v2.0/floatingips", json=body), 404, "PortNotFound")
    lonely_net, _ = api.network_with_subnet("10.41.0.0/24")
    lonely = api.create("port", network_id=lonely_net["id"])
    body = {"floatingip": {"floating_network_id": ext["id"], "port_id": lonely["id"]}}
    api.error(api("POST", "/v2.0/floatingips", json=body), 404, "ExternalGatewayForFloatingIPNotFound")
    body = {"floatingip": {"floating_network_id": ext["id"], "port_id": port["id"], "fixed_ip_address": "10.0.0.99"}}
    api.error(api("POST", "/v2.0/floatingips", json=body), 400)
    assert api.ok("GET", "/v2.0/floatingips")["floatingips"] == []
    fip = api.create("floatingip", floating_network_id=ext["id"], port_id=port["id"])
    api.error(api("GET", f"/v2.0/floatingips/{fip['id']}", "member-b"), 404)
    api.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)  # disassociates
    assert api.ok("GET", f"/v2.0/floatingips/{fip['id']}")["floatingip"]["port_id"] is None
