"""The network server's bus methods for the metadata proxies: ``metadata_port`` and ``lookup_instance``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stratus.core.bus import Bus
from stratus.network.service import STATUS_TOPIC, StatusEndpoint
from tests.functional.network.conftest import PROJECT_A, Api

VM = "8c1e5a38-2d2b-4a4e-9d0c-6f1b2a3c4d5e"


def test_metadata_port_of_a_dhcp_network(make_api: Callable[..., Api]) -> None:
    api = make_api()
    net, _sub = api.network_with_subnet("10.9.0.0/24")
    api.create("subnet", network_id=net["id"], cidr="10.8.0.0/22", ip_version=4)
    endpoint = StatusEndpoint(api.service)
    md = endpoint.metadata_port(net["id"])
    assert md is not None
    ports = api.ok("GET", f"/v2.0/ports?network_id={net['id']}&device_owner=network:distributed", "admin")["ports"]
    assert [p["id"] for p in ports] == [md["port_id"]]
    assert md["mac_address"] == ports[0]["mac_address"]
    want = sorted(
        f"{ip['ip_address']}/{24 if ip['ip_address'].startswith('10.9.') else 22}" for ip in ports[0]["fixed_ips"]
    )
    assert sorted(md["cidrs"]) == want and len(want) == 2
    assert md["mtu"] == net["mtu"]


def test_no_metadata_port_without_dhcp(make_api: Callable[..., Api]) -> None:
    api = make_api()
    net = api.create("network", name="nodhcp")
    endpoint = StatusEndpoint(api.service)
    assert endpoint.metadata_port(net["id"]) is None
    api.create("subnet", network_id=net["id"], cidr="10.7.0.0/24", ip_version=4, enable_dhcp=False)
    assert endpoint.metadata_port(net["id"]) is None
    assert endpoint.metadata_port("no-such-network") is None


def test_lookup_instance(make_api: Callable[..., Api]) -> None:
    api = make_api()
    net, sub = api.network_with_subnet("10.9.0.0/24")
    other, _ = api.network_with_subnet("10.9.0.0/24")
    vm = api.create(
        "port",
        network_id=net["id"],
        device_id=VM,
        device_owner="compute:nova",
        fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.9.0.50"}],
    )
    api.create("port", network_id=net["id"], fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.9.0.51"}])
    endpoint = StatusEndpoint(api.service)
    assert endpoint.lookup_instance(net["id"], "10.9.0.50") == {"device_id": VM, "project_id": PROJECT_A}
    assert vm["device_id"] == VM
    assert endpoint.lookup_instance(other["id"], "10.9.0.50") is None  # same address, other network
    assert endpoint.lookup_instance(net["id"], "10.9.0.51") is None  # not a compute port
    assert endpoint.lookup_instance(net["id"], "10.9.0.99") is None
    assert endpoint.lookup_instance(net["id"], "not-an-ip") is None
    md = endpoint.metadata_port(net["id"])
    assert md is not None
    assert endpoint.lookup_instance(net["id"], md["cidrs"][0].split("/")[0]) is None  # the metadata port itself


def test_methods_over_the_bus(make_api: Callable[..., Api]) -> None:
    api = make_api()
    net, sub = api.network_with_subnet("10.9.0.0/24")
    api.create(
        "port",
        network_id=net["id"],
        device_id=VM,
        device_owner="compute:zone-a",
        fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.9.0.60"}],
    )
    with Bus("memory://", name="mdtest") as bus:
        server = bus.serve(STATUS_TOPIC, StatusEndpoint(api.service), workers=1)
        try:
            found: Any = bus.call(STATUS_TOPIC, "lookup_instance", network_id=net["id"], address="10.9.0.60")
            assert found == {"device_id": VM, "project_id": PROJECT_A}
            md = bus.call(STATUS_TOPIC, "metadata_port", network_id=net["id"])
            assert md["cidrs"] and md["port_id"]
            assert bus.call(STATUS_TOPIC, "lookup_instance", network_id=net["id"], address="10.9.0.61") is None
        finally:
            server.stop()
