"""The typed client compute uses, against the real API."""

from __future__ import annotations

import pytest

from stratus.network.client import NetworkClient, NetworkClientError
from tests.functional.network.conftest import Api


def test_port_lifecycle_through_the_client(api: Api) -> None:
    net, sub = api.network_with_subnet()
    member = NetworkClient("http://testserver", "member-a", client=api.client)
    admin = NetworkClient("http://testserver", "admin", client=api.client)
    assert [n["id"] for n in member.list_networks()] == [net["id"]]
    assert member.show_network(net["id"])["subnets"] == [sub["id"]]
    port = member.create_port(net["id"], "vm-1", device_owner="compute:nova")
    assert member.get_port(port["id"])["device_id"] == "vm-1"
    assert [p["id"] for p in member.list_ports(device_id="vm-1")] == [port["id"]]
    bound = admin.update_port(port["id"], host_id="compute-1")
    assert bound["binding:host_id"] == "compute-1" and bound["binding:vif_type"] == "ovs"
    assert bound["device_id"] == "vm-1"
    with pytest.raises(NetworkClientError) as err:
        member.create_port(net["id"], fixed_ips=[{"ip_address": "10.99.0.1"}])
    assert err.value.status == 400 and err.value.type == "InvalidIpForNetwork"
    member.delete_port(port["id"])
    member.delete_port(port["id"])  # missing_ok
    with pytest.raises(NetworkClientError) as err:
        member.get_port(port["id"])
    assert err.value.type == "PortNotFound"
