"""Nova's network proxies (os-floating-ips, os-floating-ip-pools, os-networks, os-tenant-networks) against a
real network service, and the addFloatingIp / removeFloatingIp logic (``network_proxy``)."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.compute.core import network_proxy
from stratus.core.exceptions import BadRequest, Conflict, Forbidden, NotFound
from tests.functional.compute.conftest import PERSONAS, Api
from tests.functional.compute.test_networking import NetApi
from tests.functional.compute.test_networking import napi as napi  # noqa: F401  (the fixture)

OLD = "2.35"


def _external(napi: NetApi, name: str = "public", cidr: str = "172.24.4.0/24") -> str:
    ext: dict[str, Any] = {"name": name, "router:external": True}
    if name == "public":  # the one flat physical network the fake data plane knows
        ext |= {"provider:network_type": "flat", "provider:physical_network": "public"}
    net = napi.n("POST", "/v2.0/networks", "admin", 201, json={"network": ext})["network"]
    subnet = {"network_id": net["id"], "cidr": cidr, "ip_version": 4, "enable_dhcp": False}
    napi.n("POST", "/v2.0/subnets", "admin", 201, json={"subnet": subnet})
    return net["id"]  # type: ignore[no-any-return]


def _routed_network(napi: NetApi, ext_id: str, as_: str = "member-a", cidr: str = "10.0.0.0/24") -> str:
    """A tenant network reaching ``ext_id`` through a router, so its ports may hold floating IPs."""
    net = napi.network_with_subnet(cidr, as_)
    subnet_id = napi.n("GET", f"/v2.0/networks/{net}", as_)["network"]["subnets"][0]
    body = {"router": {"name": "r", "external_gateway_info": {"network_id": ext_id}}}
    router = napi.n("POST", "/v2.0/routers", as_, 201, json=body)["router"]
    napi.n("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", as_, json={"subnet_id": subnet_id})
    return net


def _allocate(napi: NetApi, as_: str = "member-a", **body: Any) -> dict[str, Any]:
    return napi.ok("POST", "/os-floating-ips", as_, version=OLD, json=body or None)["floating_ip"]  # type: ignore[no-any-return]


def _error(resp: Any, status: int) -> str:
    assert resp.status_code == status, resp.text
    fault = next(iter(resp.json().values()))
    assert fault["code"] == status
    return str(fault["message"])


def test_floating_ip_lifecycle_and_isolation(napi: NetApi) -> None:
    ext = _external(napi)
    fip = _allocate(napi, pool="public")
    assert fip["pool"] == "public" and fip["fixed_ip"] is None and fip["instance_id"] is None
    assert fip["ip"].startswith("172.24.4.")
    assert napi.ok("GET", f"/os-floating-ips/{fip['id']}", version=OLD)["floating_ip"] == fip
    assert napi.ok("GET", f"/os-floating-ips/{fip['id']}", "reader-a")["floating_ip"] == fip
    assert napi.ok("GET", "/os-floating-ips", "reader-a")["floating_ips"] == [fip]
    # the network API sees the same floating IP, allocated for member-a's project
    assert napi.n("GET", f"/v2.0/floatingips/{fip['id']}")["floatingip"]["floating_network_id"] == ext

    assert napi.ok("GET", "/os-floating-ips", "member-b")["floating_ips"] == []
    msg = _error(napi("GET", f"/os-floating-ips/{fip['id']}", "member-b"), 404)
    assert msg == f"Floating IP not found for ID {fip['id']}"
    _error(napi("DELETE", f"/os-floating-ips/{fip['id']}", "member-b"), 404)
    _error(napi("DELETE", f"/os-floating-ips/{fip['id']}", "reader-a"), 403)

    assert napi.ok("DELETE", f"/os-floating-ips/{fip['id']}", status=202) is None
    _error(napi("GET", f"/os-floating-ips/{fip['id']}"), 404)
    assert napi.ok("GET", "/os-floating-ips")["floating_ips"] == []
    napi.n("GET", f"/v2.0/floatingips/{fip['id']}", status=404)


def test_allocate_from_default_pool_and_errors(napi: NetApi) -> None:
    msg = _error(napi("POST", "/os-floating-ips", json={}), 404)
    assert msg == "Floating IP pool not found."  # no external network at all
    _error(napi("POST", "/os-floating-ips"), 404)  # no body either
    assert napi.ok("GET", "/os-floating-ip-pools")["floating_ip_pools"] == []

    _external(napi)
    fip = _allocate(napi)  # no body: the only external network
    assert fip["pool"] == "public"
    assert _error(napi("POST", "/os-floating-ips", json={"pool": "nope"}), 404) == "Floating IP pool not found."
    _error(napi("POST", "/os-floating-ips", json={"pool": 5}), 400)
    _error(napi("POST", "/os-floating-ips", json=["public"]), 400)
    _error(napi("POST", "/os-floating-ips", "reader-a", json={"pool": "public"}), 403)
    # a tenant network is no pool
    napi.network_with_subnet()
    assert napi.ok("GET", "/os-floating-ip-pools", "reader-a")["floating_ip_pools"] == [{"name": "public"}]
    assert napi.ok("GET", "/os-floating-ip-pools", "member-b")["floating_ip_pools"] == [{"name": "public"}]


def test_pool_by_name_among_several(napi: NetApi) -> None:
    _external(napi, "public")
    other = _external(napi, "other", "172.25.0.0/24")
    fip = _allocate(napi, pool="other")
    assert fip["pool"] == "other" and fip["ip"].startswith("172.25.0.")
    assert _allocate(napi, pool=other)["pool"] == "other"  # a pool may be named by its id too
    names = sorted(p["name"] for p in napi.ok("GET", "/os-floating-ip-pools")["floating_ip_pools"])
    assert names == ["other", "public"]


@pytest.mark.parametrize("path", ["/os-floating-ips", "/os-floating-ip-pools", "/os-networks", "/os-tenant-networks"])
def test_gone_after_2_35(napi: NetApi, path: str) -> None:
    napi.ok("GET", path, version=OLD)
    napi.ok("GET", path)  # the default microversion is 2.1
    assert _error(napi("GET", path, version="2.36"), 404) == "The resource could not be found."
    _error(napi("GET", path, version="latest"), 404)


def test_post_after_2_35_is_404(napi: NetApi) -> None:
    _external(napi)
    _error(napi("POST", "/os-floating-ips", version="2.36", json={"pool": "public"}), 404)
    assert napi.ok("GET", "/os-floating-ips")["floating_ips"] == []


def test_floating_ip_shows_the_server_it_is_on(napi: NetApi) -> None:
    ext = _external(napi)
    net = _routed_network(napi, ext)
    server = napi.active(networks=[{"uuid": net}])
    fixed = napi.ports_of(server["id"])[0]["fixed_ips"][0]["ip_address"]
    fip = _allocate(napi)
    member_a = PERSONAS["member-a"]

    network_proxy.add_floating_ip(napi.service, member_a, server["id"], {"address": fip["ip"]})
    shown = napi.ok("GET", f"/os-floating-ips/{fip['id']}")["floating_ip"]
    assert shown["instance_id"] == server["id"] and shown["fixed_ip"] == fixed
    assert napi.ok("GET", "/os-floating-ips")["floating_ips"] == [shown]

    # removing it from another server (with no floating IP) is a conflict, as Nova answers
    other = napi.active(networks=[{"uuid": net}])
    with pytest.raises(Conflict, match=f"Floating IP {fip['ip']} is not associated with instance {other['id']}"):
        network_proxy.remove_floating_ip(napi.service, member_a, other["id"], {"address": fip["ip"]})
    with pytest.raises(Forbidden):
        network_proxy.remove_floating_ip(napi.service, PERSONAS["reader-a"], server["id"], {"address": fip["ip"]})

    network_proxy.remove_floating_ip(napi.service, member_a, server["id"], {"address": fip["ip"]})
    shown = napi.ok("GET", f"/os-floating-ips/{fip['id']}")["floating_ip"]
    assert shown["instance_id"] is None and shown["fixed_ip"] is None
    with pytest.raises(Conflict):
        network_proxy.remove_floating_ip(napi.service, member_a, server["id"], {"address": fip["ip"]})

    # with the fixed address named; then deleting the floating IP releases it from the server
    network_proxy.add_floating_ip(napi.service, member_a, server["id"], {"address": fip["ip"], "fixed_address": fixed})
    assert napi.n("GET", f"/v2.0/floatingips/{fip['id']}")["floatingip"]["fixed_ip_address"] == fixed
    napi.ok("DELETE", f"/os-floating-ips/{fip['id']}", status=202)
    assert napi.ok("GET", "/os-floating-ips")["floating_ips"] == []


def test_floating_ip_server_actions_over_http(napi: NetApi) -> None:
    """``POST /servers/{id}/action`` addFloatingIp / removeFloatingIp (up to 2.43, as in Nova)."""
    ext = _external(napi)
    server = napi.active(networks=[{"uuid": _routed_network(napi, ext)}])
    fip = _allocate(napi)
    assert napi.action(server["id"], {"addFloatingIp": {"address": fip["ip"]}}).status_code == 202
    assert napi.ok("GET", f"/os-floating-ips/{fip['id']}")["floating_ip"]["instance_id"] == server["id"]
    assert napi.action(server["id"], {"removeFloatingIp": {"address": fip["ip"]}}, version="2.44").status_code == 404
    assert napi.action(server["id"], {"removeFloatingIp": {"address": fip["ip"]}}).status_code == 202
    assert napi.ok("GET", f"/os-floating-ips/{fip['id']}")["floating_ip"]["instance_id"] is None
    assert napi.action(server["id"], {"addFloatingIp": {"address": "203.0.113.9"}}).status_code == 404


def test_add_floating_ip_errors(napi: NetApi) -> None:
    ext = _external(napi)
    net = _routed_network(napi, ext)
    server = napi.active(networks=[{"uuid": net}])
    fip = _allocate(napi)
    member_a, member_b = PERSONAS["member-a"], PERSONAS["member-b"]
    add = network_proxy.add_floating_ip

    with pytest.raises(NotFound, match="floating IP not found"):
        add(napi.service, member_a, server["id"], {"address": "172.24.4.250"})
    with pytest.raises(BadRequest, match="Specified fixed address not assigned to instance"):
        add(napi.service, member_a, server["id"], {"address": fip["ip"], "fixed_address": "10.9.9.9"})
    for bad in ({}, {"address": "not-an-ip"}, {"address": fip["ip"], "extra": 1}, "x"):
        with pytest.raises(BadRequest):
            add(napi.service, member_a, server["id"], bad)
    with pytest.raises(Forbidden):
        add(napi.service, PERSONAS["reader-a"], server["id"], {"address": fip["ip"]})
    # another project sees neither the server nor (from its own server) the floating IP
    with pytest.raises(NotFound):
        add(napi.service, member_b, server["id"], {"address": fip["ip"]})
    with pytest.raises(NotFound):
        network_proxy.remove_floating_ip(napi.service, member_b, server["id"], {"address": fip["ip"]})

    bare = napi.active(networks="none")
    with pytest.raises(BadRequest, match="Instance network is not ready yet"):
        add(napi.service, member_a, bare["id"], {"address": fip["ip"]})
    assert napi.ok("GET", f"/os-floating-ips/{fip['id']}")["floating_ip"]["instance_id"] is None


def test_add_floating_ip_without_a_router_is_400(napi: NetApi) -> None:
    _external(napi)
    server = napi.active(networks=[{"uuid": napi.network_with_subnet()}])
    fip = _allocate(napi)
    with pytest.raises(BadRequest, match=f"Unable to associate floating IP {fip['ip']} to fixed IP"):
        network_proxy.add_floating_ip(napi.service, PERSONAS["member-a"], server["id"], {"address": fip["ip"]})


def test_os_networks(napi: NetApi) -> None:
    net = napi.network_with_subnet()
    mine = napi.ok("GET", "/os-networks", "reader-a")["networks"]
    assert [n["id"] for n in mine] == [net]
    view = mine[0]
    assert view["label"] == "net-10.0.0.0/24"
    assert set(view) == {"id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6"} | {
        "gateway_v6",
        "label",
        "netmask_v6",
    }
    assert all(view[k] is None for k in view if k not in ("id", "label"))
    assert napi.ok("GET", f"/os-networks/{net}", version=OLD)["network"] == view
    admin = napi.ok("GET", f"/os-networks/{net}", "admin")["network"]
    assert admin["project_id"] is None and admin["bridge"] is None and admin["label"] == view["label"]

    assert napi.ok("GET", "/os-networks", "member-b")["networks"] == []
    assert _error(napi("GET", f"/os-networks/{net}", "member-b"), 404) == "Network not found"
    _error(napi("GET", "/os-networks/not-a-network"), 404)
    _error(napi("GET", f"/os-networks/{net}", version="2.36"), 404)


def test_os_tenant_networks(napi: NetApi) -> None:
    net = napi.network_with_subnet("10.1.0.0/24")
    bare = napi.n("POST", "/v2.0/networks", json={"network": {"name": "bare"}}, status=201)["network"]["id"]
    listed = {n["id"]: n for n in napi.ok("GET", "/os-tenant-networks", "reader-a")["networks"]}
    assert listed == {
        net: {"id": net, "label": "net-10.1.0.0/24", "cidr": "10.1.0.0/24"},
        bare: {"id": bare, "label": "bare", "cidr": "None"},
    }
    assert napi.ok("GET", f"/os-tenant-networks/{net}")["network"] == listed[net]
    assert napi.ok("GET", "/os-tenant-networks", "member-b")["networks"] == []
    assert _error(napi("GET", f"/os-tenant-networks/{net}", "member-b"), 404) == "Network not found"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/os-networks"),
        ("POST", "/os-networks/add"),
        ("DELETE", "/os-networks/{net}"),
        ("POST", "/os-networks/{net}/action"),
        ("POST", "/os-tenant-networks"),
        ("DELETE", "/os-tenant-networks/{net}"),
    ],
)
def test_nova_network_management_is_gone(napi: NetApi, method: str, path: str) -> None:
    net = napi.network_with_subnet()
    body = {"network": {"label": "x", "cidr": "10.5.0.0/24"}} if method == "POST" else None
    for version in (None, "2.36"):
        resp = napi(method, path.format(net=net), "admin", version=version, json=body)
        assert resp.status_code == 410, resp.text
        assert resp.json() == {"computeFault": {"code": 410, "message": network_proxy.GONE}}
    assert napi("POST", "/os-networks", "nobody").status_code == 401
    assert napi.ok("GET", f"/os-networks/{net}")["network"]["id"] == net  # still there


def test_without_a_network_service_the_proxies_are_404(api: Api) -> None:
    for path in ("/os-floating-ips", "/os-floating-ip-pools", "/os-networks", "/os-tenant-networks"):
        assert _error(api("GET", path), 404) == "The resource could not be found."
    _error(api("POST", "/os-floating-ips", json={"pool": "public"}), 404)
    _error(api("GET", "/os-floating-ips", "reader-a"), 404)
