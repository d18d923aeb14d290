"""Behaviours Tempest's ``tempest.api.network`` checks that once differed from Neutron (one test each)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.functional.network.conftest import Api


def _rule(api: Api, sg_id: str, **fields: Any) -> Any:
    body = {"security_group_rule": {"security_group_id": sg_id, "direction": "ingress", **fields}}
    return api("POST", "/v2.0/security-group-rules", json=body)


@pytest.mark.parametrize(
    ("protocol", "pmin", "pmax", "kind", "message"),
    [
        ("tcp", -16, 80, "SecurityGroupInvalidPortValue", "Invalid value for port -16"),
        ("tcp", 80, 65536, "SecurityGroupInvalidPortValue", "Invalid value for port 65536"),
        ("tcp", 80, 79, "SecurityGroupInvalidPortRange", "port_range_min must be <= port_range_max"),
        ("tcp", None, 6, "SecurityGroupInvalidPortRange", "port_range_min must be <= port_range_max"),
        ("icmp", 1, 256, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP code"),
        ("icmp", 300, 1, "SecurityGroupInvalidIcmpValue", "Invalid value for ICMP type"),
        ("icmp", -1, 25, "SecurityGroupInvalidPortValue", "Invalid value for port -1"),
        ("icmp", None, 6, "SecurityGroupMissingIcmpType", "ICMP type (port-range-min) is missing"),
    ],
)
def test_rule_port_errors_use_neutron_types_and_wording(
    api: Api, protocol: str, pmin: int | None, pmax: int | None, kind: str, message: str
) -> None:
    sg = api.create("security_group", name="ports")
    body = api.error(_rule(api, sg["id"], protocol=protocol, port_range_min=pmin, port_range_max=pmax), 400, kind)
    assert message in body["message"]


def test_rule_port_given_as_numeric_string_is_accepted(api: Api) -> None:
    sg = api.create("security_group", name="ports")
    resp = _rule(api, sg["id"], protocol="tcp", port_range_min="22", port_range_max="22")
    assert resp.status_code == 201, resp.text
    assert resp.json()["security_group_rule"]["port_range_min"] == 22


@pytest.mark.parametrize("remote", ["bad_group_id", "8d6c5d3f-57cc-4a84-9c4f-3ee0b7cfa5e6"])
def test_rule_with_unknown_remote_group_is_404(api: Api, remote: str) -> None:
    sg = api.create("security_group", name="remote")
    api.error(_rule(api, sg["id"], protocol="tcp", remote_group_id=remote), 404, "SecurityGroupNotFound")


def test_subnets_show_router_external_and_extension_is_listed(api: Api) -> None:
    public, public_sub = api.external_network()
    _net, own_sub = api.network_with_subnet()
    aliases = {e["alias"] for e in api.ok("GET", "/v2.0/extensions")["extensions"]}
    assert "subnet-external-network" in aliases
    # A project sees the external network's subnet (subnet-external-network), marked as external.
    seen = api.ok("GET", f"/v2.0/subnets?network_id={public['id']}")["subnets"]
    assert [s["id"] for s in seen] == [public_sub["id"]] and seen[0]["router:external"] is True
    assert api.ok("GET", f"/v2.0/subnets/{own_sub['id']}")["subnet"]["router:external"] is False
    assert public_sub["router:external"] is True
    external = api.ok("GET", "/v2.0/subnets?router:external=true")["subnets"]
    assert [s["id"] for s in external] == [public_sub["id"]]


def test_deleting_external_network_deletes_its_unassociated_floating_ips(api: Api) -> None:
    public, public_sub = api.external_network()
    fip = api.create("floatingip", "admin", floating_network_id=public["id"])
    api.ok("DELETE", f"/v2.0/networks/{public['id']}", "admin", status=204)
    assert api.ok("GET", "/v2.0/floatingips", "admin")["floatingips"] == []
    api.error(api("GET", f"/v2.0/floatingips/{fip['id']}", "admin"), 404, "FloatingIPNotFound")
    api.error(api("GET", f"/v2.0/subnets/{public_sub['id']}", "admin"), 404, "SubnetNotFound")


def test_external_network_with_associated_floating_ip_stays_in_use(api: Api) -> None:
    public, _ = api.external_network()
    net, sub = api.network_with_subnet()
    router = api.create("router", external_gateway_info={"network_id": public["id"]})
    api.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", json={"subnet_id": sub["id"]})
    port = api.create("port", network_id=net["id"])
    fip = api.create("floatingip", floating_network_id=public["id"], port_id=port["id"])
    api.error(api("DELETE", f"/v2.0/networks/{public['id']}", "admin"), 409, "NetworkInUse")
    assert api.ok("GET", f"/v2.0/floatingips/{fip['id']}")["floatingip"]["port_id"] == port["id"]


def test_router_gateway_on_an_explicit_ipv6_address(api: Api) -> None:
    public = api.create("network", "admin", name="public6", **{"router:external": True})
    sub = api.create(
        "subnet", "admin", network_id=public["id"], cidr="2001:db8:1::/64", ip_version=6, enable_dhcp=False
    )
    fixed = {"subnet_id": sub["id"], "ip_address": "2001:db8:1::50"}
    router = api.create(
        "router", "admin", external_gateway_info={"network_id": public["id"], "external_fixed_ips": [fixed]}
    )
    assert router["external_gateway_info"]["external_fixed_ips"] == [fixed]
    spec = api.service.backend.objects["routers"][router["id"]]
    assert spec.gateway is not None and spec.gateway_next_hop is None  # no IPv4 default route via an IPv6 hop


def test_ports_filter_by_ip_address_substring(api: Api) -> None:
    net, sub = api.network_with_subnet("10.20.0.0/24")
    first = api.create("port", network_id=net["id"], fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.20.0.19"}])
    second = api.create("port", network_id=net["id"], fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.20.0.20"}])
    assert "ip-substring-filtering" in {e["alias"] for e in api.ok("GET", "/v2.0/extensions")["extensions"]}

    def ids(query: str) -> set[str]:
        # only the two ports of the test: the network's metadata port takes a random address of the pool
        mine = {first["id"], second["id"]}
        return {p["id"] for p in api.ok("GET", f"/v2.0/ports?{query}")["ports"]} & mine

    assert ids("fixed_ips=ip_address_substr%3D10.20.0.1") == {first["id"]}
    assert ids("fixed_ips=ip_address_substr%3D10.20.0.") >= {first["id"], second["id"]}
    assert ids(f"fixed_ips=ip_address_substr%3D0.0.20&fixed_ips=subnet_id%3D{sub['id']}") == {second["id"]}
    assert ids(f"fixed_ips=ip_address%3D10.20.0.19&fixed_ips=subnet_id%3D{sub['id']}") == {first["id"]}
    api.error(api("GET", "/v2.0/ports?fixed_ips=10.20.0.19"), 400)
