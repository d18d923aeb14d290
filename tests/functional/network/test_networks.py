"""Networks and subnets: attributes, provider networks, validation, errors, version discovery."""

from __future__ import annotations

from tests.functional.network.conftest import PROJECT_A, Api


def test_version_discovery_and_extensions(api: Api) -> None:
    versions = api.client.get("/").json()["versions"]
    assert versions[0]["id"] == "v2.0" and versions[0]["status"] == "CURRENT"
    aliases = {e["alias"] for e in api.ok("GET", "/v2.0/extensions")["extensions"]}
    for alias in (
        "router",
        "external-net",
        "provider",
        "security-group",
        "port-security",
        "allowed-address-pairs",
        "binding",
        "extraroute",
        "quotas",
        "net-mtu",
        "pagination",
        "sorting",
        "ext-gw-mode",
    ):
        assert alias in aliases
    assert api.ok("GET", "/v2.0/extensions/router")["extension"]["alias"] == "router"
    api.error(api("GET", "/v2.0/extensions/nope"), 404)
    assert {r["collection"] for r in api.ok("GET", "/v2.0")["resources"]} >= {"networks", "ports", "routers"}


def test_requires_token(api: Api) -> None:
    resp = api.client.get("/v2.0/networks")
    assert resp.status_code == 401
    assert resp.json()["NeutronError"]["type"] == "HTTPUnauthorized"


def test_create_tenant_network_defaults(api: Api) -> None:
    net = api.create("network", name="n1")
    assert net["status"] == "ACTIVE" and net["mtu"] == 1442 and net["shared"] is False
    assert net["router:external"] is False and net["admin_state_up"] is True
    assert net["project_id"] == net["tenant_id"] == PROJECT_A
    assert "provider:network_type" not in net
    admin_view = api.ok("GET", f"/v2.0/networks/{net['id']}", "admin")["network"]
    assert admin_view["provider:network_type"] == "geneve"
    assert admin_view["provider:segmentation_id"] >= 1
    assert admin_view["provider:physical_network"] is None


def test_flat_provider_network(api: Api) -> None:
    net, _ = api.external_network()
    shown = api.ok("GET", f"/v2.0/networks/{net['id']}", "admin")["network"]
    assert shown["provider:network_type"] == "flat" and shown["provider:physical_network"] == "public"
    assert shown["provider:segmentation_id"] is None and shown["mtu"] == 1500
    again = api(
        "POST",
        "/v2.0/networks",
        "admin",
        json={"network": {"provider:network_type": "flat", "provider:physical_network": "public"}},
    )
    api.error(again, 409, "FlatNetworkInUse")
    unknown = api(
        "POST",
        "/v2.0/networks",
        "admin",
        json={"network": {"provider:network_type": "flat", "provider:physical_network": "nowhere"}},
    )
    api.error(unknown, 400)


def test_vlan_provider_network(api: Api) -> None:
    body = {"provider:network_type": "vlan", "provider:physical_network": "public", "provider:segmentation_id": 42}
    net = api.create("network", "admin", **body)
    assert api.ok("GET", f"/v2.0/networks/{net['id']}", "admin")["network"]["provider:segmentation_id"] == 42
    api.error(api("POST", "/v2.0/networks", "admin", json={"network": body}), 409)
    bad = {**body, "provider:segmentation_id": 5000}
    api.error(api("POST", "/v2.0/networks", "admin", json={"network": bad}), 400)


def test_admin_only_attributes(api: Api) -> None:
    for attrs in ({"provider:network_type": "flat"}, {"router:external": True}, {"shared": True}):
        api.error(api("POST", "/v2.0/networks", json={"network": attrs}), 403, "PolicyNotAuthorized")
    net = api.create("network")
    api.error(api("PUT", f"/v2.0/networks/{net['id']}", json={"network": {"shared": True}}), 403)


def test_bad_network_bodies(api: Api) -> None:
    for body in (
        {},
        {"network": "x"},
        {"network": {"bogus": 1}},
        {"network": {"admin_state_up": "maybe"}},
        {"network": {"name": 5}},
        {"network": {"mtu": 9999}},
    ):
        api.error(api("POST", "/v2.0/networks", json=body), 400)
    resp = api("POST", "/v2.0/networks", content=b"{nope", headers={"Content-Type": "application/json"})
    api.error(resp, 400)


def test_update_and_delete_network(api: Api) -> None:
    net = api.create("network", name="a")
    updated = api.ok("PUT", f"/v2.0/networks/{net['id']}", json={"network": {"name": "b", "mtu": 1400}})["network"]
    assert updated["name"] == "b" and updated["mtu"] == 1400 and updated["revision_number"] == 1
    api.error(api("PUT", f"/v2.0/networks/{net['id']}", "reader-a", json={"network": {"name": "c"}}), 403)
    api.ok("DELETE", f"/v2.0/networks/{net['id']}", status=204)
    api.error(api("GET", f"/v2.0/networks/{net['id']}"), 404, "NetworkNotFound")
    api.error(api("DELETE", f"/v2.0/networks/{net['id']}"), 404, "NetworkNotFound")


def test_network_in_use(api: Api) -> None:
    net, sub = api.network_with_subnet()
    port = api.create("port", network_id=net["id"])
    api.error(api("DELETE", f"/v2.0/networks/{net['id']}"), 409, "NetworkInUse")
    api.error(api("DELETE", f"/v2.0/subnets/{sub['id']}"), 409, "SubnetInUse")
    api.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    api.ok("DELETE", f"/v2.0/networks/{net['id']}", status=204)  # the metadata port goes with it
    assert api.ok("GET", "/v2.0/ports", "admin")["ports"] == []
    assert api.ok("GET", "/v2.0/subnets", "admin")["subnets"] == []


def test_subnet_defaults(api: Api) -> None:
    net, sub = api.network_with_subnet("10.1.0.0/24")
    assert sub["gateway_ip"] == "10.1.0.1"
    assert sub["allocation_pools"] == [{"start": "10.1.0.2", "end": "10.1.0.254"}]
    assert sub["enable_dhcp"] is True and sub["ip_version"] == 4
    assert api.ok("GET", f"/v2.0/networks/{net['id']}")["network"]["subnets"] == [sub["id"]]
    meta = [p for p in api.ok("GET", "/v2.0/ports")["ports"] if p["device_owner"] == "network:distributed"]
    assert len(meta) == 1 and meta[0]["device_id"] == f"ovnmeta-{net['id']}"
    assert meta[0]["fixed_ips"][0]["subnet_id"] == sub["id"]


def test_subnet_gateway_and_pools(api: Api) -> None:
    net = api.create("network")
    sub = api.create(
        "subnet", network_id=net["id"], cidr="10.2.0.0/24", ip_version=4, gateway_ip=None, enable_dhcp=False
    )
    assert sub["gateway_ip"] is None
    assert sub["allocation_pools"] == [{"start": "10.2.0.1", "end": "10.2.0.254"}]
    sub2 = api.create(
        "subnet",
        network_id=net["id"],
        cidr="10.3.0.0/24",
        ip_version=4,
        gateway_ip="10.3.0.254",
        allocation_pools=[{"start": "10.3.0.10", "end": "10.3.0.20"}],
        dns_nameservers=["8.8.8.8"],
        host_routes=[{"destination": "10.9.0.0/16", "nexthop": "10.3.0.5"}],
    )
    assert sub2["allocation_pools"] == [{"start": "10.3.0.10", "end": "10.3.0.20"}]
    assert sub2["dns_nameservers"] == ["8.8.8.8"] and sub2["host_routes"][0]["nexthop"] == "10.3.0.5"


def test_subnet_errors(api: Api) -> None:
    net, _ = api.network_with_subnet("10.0.0.0/24")

    def post(**fields: object) -> object:
        return api("POST", "/v2.0/subnets", json={"subnet": {"network_id": net["id"], "ip_version": 4, **fields}})

    assert "overlaps" in api.error(post(cidr="10.0.0.128/25"), 400)["message"]
    api.error(post(cidr="10.5.0.0/33"), 400)
    api.error(post(cidr="not-a-cidr"), 400)
    api.error(post(cidr="10.5.0.7/24"), 400)
    api.error(post(cidr="10.5.0.0/24", gateway_ip="10.6.0.1"), 400)
    api.error(post(cidr="10.5.0.0/24", allocation_pools=[{"start": "10.6.0.2", "end": "10.6.0.9"}]), 400)
    api.error(post(cidr="10.5.0.0/24", allocation_pools=[{"start": "10.5.0.1", "end": "10.5.0.9"}]), 409)
    api.error(post(cidr="fd00::/64"), 400)
    api.error(post(), 400)
    missing = api(
        "POST",
        "/v2.0/subnets",
        json={
            "subnet": {"network_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12, "ip_version": 4, "cidr": "10.7.0.0/24"}
        },
    )
    api.error(missing, 404, "NetworkNotFound")


def test_ipv6_subnet(api: Api) -> None:
    net = api.create("network")
    sub = api.create("subnet", network_id=net["id"], cidr="fd00:1::/64", ip_version=6)
    assert sub["gateway_ip"] == "fd00:1::1"
    port = api.create("port", network_id=net["id"])
    assert port["fixed_ips"][0]["ip_address"].startswith("fd00:1::")


def test_subnet_update_and_delete(api: Api) -> None:
    net, sub = api.network_with_subnet()
    updated = api.ok("PUT", f"/v2.0/subnets/{sub['id']}", json={"subnet": {"name": "s", "enable_dhcp": False}})
    assert updated["subnet"]["name"] == "s" and updated["subnet"]["enable_dhcp"] is False
    api.error(api("PUT", f"/v2.0/subnets/{sub['id']}", json={"subnet": {"cidr": "10.9.0.0/24"}}), 400)
    api.ok("DELETE", f"/v2.0/subnets/{sub['id']}", status=204)
    assert api.ok("GET", f"/v2.0/networks/{net['id']}")["network"]["subnets"] == []


def test_shared_network_visible_and_usable(api: Api) -> None:
    net = api.create("network", "admin", name="shared", shared=True)
    api.create("subnet", "admin", network_id=net["id"], cidr="10.50.0.0/24", ip_version=4)
    assert net["id"] in [n["id"] for n in api.ok("GET", "/v2.0/networks", "member-b")["networks"]]
    port = api.create("port", "member-b", network_id=net["id"])
    assert port["project_id"] == "b" * 32
    api.error(api("PUT", f"/v2.0/networks/{net['id']}", "member-b", json={"network": {"name": "x"}}), 403)
    api.error(api("DELETE", f"/v2.0/networks/{net['id']}", "member-b"), 403)
