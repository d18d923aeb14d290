"""openstacksdk against a live network API (token auth with a static token, no identity service)."""

from __future__ import annotations

import socket
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from stratus.core.api.server import ApiServer
from stratus.network.service import NetworkService


@pytest.fixture
def live(service_factory: Callable[..., NetworkService]) -> Iterator[str]:
    service = service_factory()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ApiServer("network", service.app, "127.0.0.1", port)
    server.start()
    yield server.url
    server.stop()


def _connect(url: str, token: str) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import openstack

        return openstack.connect(
            auth_type="admin_token", auth={"endpoint": url, "token": token}, network_api_version="2"
        )


def test_sdk_round_trip(live: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        admin = _connect(live, "admin")
        conn = _connect(live, "member-a")
        public = admin.network.create_network(
            name="public", is_router_external=True, provider_network_type="flat", provider_physical_network="public"
        )
        admin.network.create_subnet(network_id=public.id, cidr="172.24.4.0/24", ip_version=4, is_dhcp_enabled=False)
        net = conn.network.create_network(name="private")
        sub = conn.network.create_subnet(network_id=net.id, cidr="10.0.0.0/24", ip_version=4)
        assert sub.gateway_ip == "10.0.0.1"
        port = conn.network.create_port(network_id=net.id, name="vm-port")
        assert port.status == "DOWN" and port.fixed_ips[0]["subnet_id"] == sub.id
        assert [p.name for p in conn.network.ports(device_owner="")] == ["vm-port"]
        router = conn.network.create_router(name="r", external_gateway_info={"network_id": public.id})
        conn.network.add_interface_to_router(router, subnet_id=sub.id)
        fip = conn.network.create_ip(floating_network_id=public.id, port_id=port.id)
        assert fip.router_id == router.id and fip.fixed_ip_address == port.fixed_ips[0]["ip_address"]
        sg = conn.network.create_security_group(name="web")
        conn.network.create_security_group_rule(
            security_group_id=sg.id, direction="ingress", protocol="tcp", port_range_min=22, port_range_max=22
        )
        names = sorted(g.name for g in conn.network.security_groups())
        assert names == ["default", "web"]
        assert len(list(conn.network.networks(paginated=True, limit=1))) == 2  # own + external, page by page
        quota = admin.network.get_quota(net.project_id)
        assert quota.networks == 100
        assert conn.network.find_extension("router") is not None
        conn.network.delete_ip(fip)
        conn.network.remove_interface_from_router(router, subnet_id=sub.id)
        conn.network.delete_router(router)
        conn.network.delete_port(port)
        conn.network.delete_network(net)
        assert conn.network.find_network("private") is None
