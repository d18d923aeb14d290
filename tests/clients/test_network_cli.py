"""The network acceptance scenario's API half with the real ``openstack`` CLI (in-memory data plane).

The cloud is the session's ``cloud`` (tests/conftest.py): the network service with the fake back end,
so this checks what the CLI sees: create/list/show/set/delete of every resource for an admin and a
member, project isolation, the documented 4xx for bad input, and compute binding ports.
The real data plane (OVN, guests, packets) is tests/e2e/test_network_ovn.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.clients.osc import OscError, osc, run
from tests.conftest import CloudHandle

DEMO = "stratus-demo"


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def refused(cloud: CloudHandle, *args: str, os_cloud: str = DEMO) -> str:
    """Run a command that must fail; return its error output (the CLI prints the API's message)."""
    with pytest.raises(OscError) as err:
        run(cloud, *args, os_cloud=os_cloud)
    return str(err.value)


@pytest.fixture(scope="module")
def demo_net(cloud: CloudHandle) -> dict[str, Any]:
    """A demo network with one subnet, 10.60.0.0/24."""
    net = osc(cloud, "network", "create", unique("net"), os_cloud=DEMO)
    subnet = osc(
        cloud, "subnet", "create", "--network", net["id"], "--subnet-range", "10.60.0.0/24", unique("sub"),
        os_cloud=DEMO,
    )  # fmt: skip
    return {"net": net, "subnet": subnet}


def test_seeded_public_and_private_networks(cloud: CloudHandle) -> None:
    nets = {n["Name"]: n for n in osc(cloud, "network", "list", os_cloud=DEMO)}
    assert {"public", "private"} <= set(nets)
    public = osc(cloud, "network", "show", "public")
    assert public["router:external"] is True and public["provider:network_type"] == "flat"
    routers = {r["Name"] for r in osc(cloud, "router", "list", os_cloud=DEMO)}
    assert "router1" in routers
    # the admin does not see the demo project's private network in its own listing... but may list all
    assert "private" not in {n["Name"] for n in osc(cloud, "network", "list", "--project", "admin")}


@pytest.mark.parametrize("os_cloud", ["stratus", DEMO])
def test_network_subnet_port_lifecycle(cloud: CloudHandle, os_cloud: str) -> None:
    name = unique("net")
    net = osc(cloud, "network", "create", name, os_cloud=os_cloud)
    assert net["status"] == "ACTIVE" and net["mtu"] > 0
    osc(cloud, "network", "set", "--name", f"{name}-x", "--description", "renamed", net["id"], os_cloud=os_cloud)
    assert osc(cloud, "network", "show", net["id"], os_cloud=os_cloud)["name"] == f"{name}-x"
    subnet = osc(
        cloud, "subnet", "create", "--network", net["id"], "--subnet-range", "10.61.0.0/24",
        "--allocation-pool", "start=10.61.0.10,end=10.61.0.20", "--dns-nameserver", "10.61.0.5", unique("sub"),
        os_cloud=os_cloud,
    )  # fmt: skip
    assert subnet["gateway_ip"] == "10.61.0.1" and subnet["enable_dhcp"] is True
    osc(cloud, "subnet", "set", "--name", "renamed-sub", subnet["id"], os_cloud=os_cloud)
    assert osc(cloud, "subnet", "show", subnet["id"], os_cloud=os_cloud)["name"] == "renamed-sub"
    port = osc(cloud, "port", "create", "--network", net["id"], unique("port"), os_cloud=os_cloud)
    (fixed,) = port["fixed_ips"]
    assert fixed["subnet_id"] == subnet["id"]
    assert 10 <= int(fixed["ip_address"].rsplit(".", 1)[1]) <= 20
    assert port["status"] == "DOWN" and port["mac_address"].startswith("fa:16:3e:")
    osc(cloud, "port", "set", "--name", "renamed-port", port["id"], os_cloud=os_cloud)
    assert port["id"] in {p["ID"] for p in osc(cloud, "port", "list", "--network", net["id"], os_cloud=os_cloud)}
    run(cloud, "port", "delete", port["id"], os_cloud=os_cloud)
    run(cloud, "subnet", "delete", subnet["id"], os_cloud=os_cloud)
    run(cloud, "network", "delete", net["id"], os_cloud=os_cloud)
    assert net["id"] not in {n["ID"] for n in osc(cloud, "network", "list", os_cloud=os_cloud)}


def test_router_floating_ip_and_security_groups(cloud: CloudHandle, demo_net: dict[str, Any]) -> None:
    router = osc(cloud, "router", "create", unique("router"), os_cloud=DEMO)
    run(cloud, "router", "set", "--external-gateway", "public", router["id"], os_cloud=DEMO)
    run(cloud, "router", "add", "subnet", router["id"], demo_net["subnet"]["id"], os_cloud=DEMO)
    shown = osc(cloud, "router", "show", router["id"], os_cloud=DEMO)
    assert shown["external_gateway_info"]["network_id"] == osc(cloud, "network", "show", "public")["id"]
    assert shown["external_gateway_info"]["enable_snat"] is True

    group = osc(cloud, "security group", "create", unique("sg"), os_cloud=DEMO)
    rule = osc(
        cloud, "security group rule", "create", "--protocol", "tcp", "--dst-port", "80", "--ingress", group["id"],
        os_cloud=DEMO,
    )  # fmt: skip
    assert rule["port_range_min"] == 80 and rule["direction"] == "ingress"
    rules = osc(cloud, "security group rule", "list", group["id"], os_cloud=DEMO)
    assert rule["id"] in {r["ID"] for r in rules}
    osc(cloud, "security group", "set", "--description", "web", group["id"], os_cloud=DEMO)
    port = osc(
        cloud, "port", "create", "--network", demo_net["net"]["id"], "--security-group", group["id"], unique("p"),
        os_cloud=DEMO,
    )  # fmt: skip

    fip = osc(cloud, "floating ip", "create", "public", os_cloud=DEMO)
    assert fip["status"] == "DOWN" and fip["floating_ip_address"].startswith("172.24.4.")
    run(cloud, "floating ip", "set", "--port", port["id"], fip["id"], os_cloud=DEMO)
    shown_fip = osc(cloud, "floating ip", "show", fip["id"], os_cloud=DEMO)
    assert shown_fip["port_id"] == port["id"]
    assert shown_fip["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    run(cloud, "floating ip", "unset", "--port", fip["id"], os_cloud=DEMO)
    assert osc(cloud, "floating ip", "show", fip["id"], os_cloud=DEMO)["port_id"] is None
    run(cloud, "floating ip", "delete", fip["id"], os_cloud=DEMO)

    run(cloud, "port", "delete", port["id"], os_cloud=DEMO)
    run(cloud, "security group rule", "delete", rule["id"], os_cloud=DEMO)
    run(cloud, "security group", "delete", group["id"], os_cloud=DEMO)
    run(cloud, "router", "remove", "subnet", router["id"], demo_net["subnet"]["id"], os_cloud=DEMO)
    run(cloud, "router", "delete", router["id"], os_cloud=DEMO)


def test_default_security_group_has_upstreams_rules(cloud: CloudHandle) -> None:
    groups = osc(cloud, "security group", "list", os_cloud=DEMO)
    default = next(g for g in groups if g["Name"] == "default")
    rules = osc(cloud, "security group rule", "list", default["ID"], os_cloud=DEMO)
    ingress = [r for r in rules if r["Direction"] == "ingress"]
    egress = [r for r in rules if r["Direction"] == "egress"]
    # Neutron: ingress only from members of the group itself, egress anywhere (IPv4 and IPv6).
    assert {r["Ethertype"] for r in ingress} == {"IPv4", "IPv6"}
    assert all(r["Remote Security Group"] == default["ID"] for r in ingress)
    assert {r["Ethertype"] for r in egress} == {"IPv4", "IPv6"}


def test_projects_cannot_see_or_touch_each_other(cloud: CloudHandle) -> None:
    admin_net = osc(cloud, "network", "create", unique("adminnet"))
    osc(cloud, "subnet", "create", "--network", admin_net["id"], "--subnet-range", "10.62.0.0/24", unique("s"))
    admin_port = osc(cloud, "port", "create", "--network", admin_net["id"], unique("p"))
    try:
        assert admin_net["id"] not in {n["ID"] for n in osc(cloud, "network", "list", os_cloud=DEMO)}
        assert admin_port["id"] not in {p["ID"] for p in osc(cloud, "port", "list", os_cloud=DEMO)}
        assert "No Network found" in refused(cloud, "network", "show", admin_net["id"])
        refused(cloud, "port", "delete", admin_port["id"])
        refused(cloud, "port", "create", "--network", admin_net["id"], unique("p"))
        # a floating IP of the demo project cannot point at the admin's port
        fip = osc(cloud, "floating ip", "create", "public", os_cloud=DEMO)
        try:
            refused(cloud, "floating ip", "set", "--port", admin_port["id"], fip["id"])
            assert osc(cloud, "floating ip", "show", fip["id"], os_cloud=DEMO)["port_id"] is None
        finally:
            run(cloud, "floating ip", "delete", fip["id"], os_cloud=DEMO)
        assert osc(cloud, "port", "show", admin_port["id"])["id"] == admin_port["id"]  # untouched
    finally:
        run(cloud, "port", "delete", admin_port["id"])
        run(cloud, "network", "delete", admin_net["id"])


def test_bad_input_is_refused_and_nothing_is_half_written(cloud: CloudHandle, demo_net: dict[str, Any]) -> None:
    net_id = demo_net["net"]["id"]
    subnets_before = osc(cloud, "subnet", "list", "--network", net_id, os_cloud=DEMO)
    out = refused(cloud, "subnet", "create", "--network", net_id, "--subnet-range", "10.60.0.128/25", unique("s"))
    assert "overlaps" in out
    assert osc(cloud, "subnet", "list", "--network", net_id, os_cloud=DEMO) == subnets_before

    ports_before = {p["ID"] for p in osc(cloud, "port", "list", "--network", net_id, os_cloud=DEMO)}
    out = refused(cloud, "port", "create", "--network", net_id, "--fixed-ip", "ip-address=10.99.0.5", unique("p"))
    assert "10.99.0.5" in out
    taken = osc(cloud, "port", "create", "--network", net_id, "--fixed-ip", "ip-address=10.60.0.50", unique("p"),
                os_cloud=DEMO)  # fmt: skip
    out = refused(cloud, "port", "create", "--network", net_id, "--fixed-ip", "ip-address=10.60.0.50", unique("p"))
    assert "10.60.0.50" in out
    assert {p["ID"] for p in osc(cloud, "port", "list", "--network", net_id, os_cloud=DEMO)} == ports_before | {
        taken["id"]
    }

    out = refused(cloud, "floating ip", "create", net_id)
    assert "external" in out.lower()

    # a network whose port is in use by a server cannot be deleted (409)
    run(cloud, "port", "set", "--device-owner", "compute:nova", "--device", str(uuid.uuid4()), taken["id"],
        os_cloud="stratus")  # fmt: skip
    out = refused(cloud, "network", "delete", net_id)
    assert "in use" in out.lower() or "409" in out
    assert osc(cloud, "network", "show", net_id, os_cloud=DEMO)["id"] == net_id
    run(cloud, "port", "delete", taken["id"], os_cloud="stratus")


def test_server_on_a_network_gets_a_bound_port(cloud: CloudHandle, demo_net: dict[str, Any]) -> None:
    name = unique("vm")
    server = osc(
        cloud, "server", "create", "--image", "testvm", "--flavor", "m1.tiny", "--network", demo_net["net"]["id"],
        "--wait", name, os_cloud=DEMO,
    )  # fmt: skip
    try:
        ports = osc(cloud, "port", "list", "--server", server["id"], os_cloud=DEMO)
        assert len(ports) == 1
        port = osc(cloud, "port", "show", ports[0]["ID"])
        assert port["device_owner"].startswith("compute:") and port["binding_host_id"]
        address = port["fixed_ips"][0]["ip_address"]
        shown = osc(cloud, "server", "show", server["id"], os_cloud=DEMO)
        assert address in str(shown["addresses"])
    finally:
        run(cloud, "server", "delete", "--wait", server["id"], os_cloud=DEMO)
    assert port["id"] not in {p["ID"] for p in osc(cloud, "port", "list", os_cloud=DEMO)}


def test_network_agents_for_the_admin_only(cloud: CloudHandle) -> None:
    """`openstack network agent list/show/set`: the admin sees this host's chassis; a member sees none."""
    agents = osc(cloud, "network", "agent", "list")
    assert agents, "the admin sees no network agent"
    agent = agents[0]
    assert agent["Binary"] == "ovn-controller" and agent["Agent Type"].startswith("OVN Controller")
    osc(cloud, "network", "agent", "set", "--description", "rack 1", agent["ID"])
    assert osc(cloud, "network", "agent", "show", agent["ID"])["description"] == "rack 1"
    assert osc(cloud, "network", "agent", "list", os_cloud=DEMO) == []
    assert "could not be found" in refused(cloud, "network", "agent", "show", agent["ID"])  # as upstream hides it
