"""The NetworkBackend contract, run against every implementation (fake always, ovn when OVN is installed)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stratus.network.backends.base import BackendUnavailable, NetworkBackend, load_backend
from stratus.network.messages import (
    DesiredState,
    FixedIp,
    NetworkSpec,
    PortSpec,
    PortStatusEvent,
    RouterInterface,
    RouterSpec,
    RuleSpec,
    SecurityGroupSpec,
    SubnetSpec,
)
from tests.functional.network.ovn_server import NbServer, needs_ovn, wait_for

NET = NetworkSpec(id="11111111-0000-0000-0000-000000000001", name="n", project_id="p", mtu=1442)
SUB = SubnetSpec(
    id="22222222-0000-0000-0000-000000000001",
    network_id=NET.id,
    cidr="10.0.0.0/24",
    ip_version=4,
    gateway_ip="10.0.0.1",
    enable_dhcp=True,
    dhcp_options={
        "lease_time": "43200",
        "server_id": "10.0.0.1",
        "server_mac": "fa:16:3e:00:00:01",
        "router": "10.0.0.1",
        "mtu": "1442",
    },
)
SG = SecurityGroupSpec(
    id="33333333-0000-0000-0000-000000000001",
    name="g",
    project_id="p",
    rules=(
        RuleSpec(
            id="44444444-0000-0000-0000-000000000001",
            direction="ingress",
            ethertype="IPv4",
            protocol="tcp",
            port_range_min=22,
            port_range_max=22,
        ),
    ),
)
PORT = PortSpec(
    id="55555555-0000-0000-0000-000000000001",
    network_id=NET.id,
    name="p",
    project_id="p",
    mac_address="fa:16:3e:00:00:10",
    fixed_ips=(FixedIp(SUB.id, "10.0.0.10"),),
    security_group_ids=(SG.id,),
    dhcp_subnet_ids=(SUB.id,),
)
ROUTER_PORT = PortSpec(
    id="66666666-0000-0000-0000-000000000001",
    network_id=NET.id,
    name="",
    project_id="p",
    mac_address="fa:16:3e:00:00:01",
    fixed_ips=(FixedIp(SUB.id, "10.0.0.1"),),
    kind="router",
    router_port="lrp-66666666-0000-0000-0000-000000000001",
    port_security=False,
    device_owner="network:router_interface",
)
ROUTER = RouterSpec(
    id="77777777-0000-0000-0000-000000000001",
    name="r",
    project_id="p",
    interfaces=(RouterInterface(ROUTER_PORT.id, NET.id, "fa:16:3e:00:00:01", ("10.0.0.1/24",), (SUB.id,)),),
)
EVERYTHING = DesiredState(
    networks=(NET,), subnets=(SUB,), security_groups=(SG,), ports=(PORT, ROUTER_PORT), routers=(ROUTER,)
)


@pytest.fixture(params=["fake", pytest.param("ovn", marks=needs_ovn)])
def backend(request: pytest.FixtureRequest) -> Iterator[NetworkBackend]:
    server = None
    events: list[PortStatusEvent] = []
    if request.param == "ovn":
        server = NbServer()
        server.start()
        impl = load_backend("ovn", nb_connection=server.remote, timeout=5)
    else:
        impl = load_backend("fake")
    impl.start(events.append)
    impl.events = events  # type: ignore[attr-defined]
    impl.server = server  # type: ignore[attr-defined]
    try:
        wait_for(impl.is_connected, 10, "the back end to connect")
        yield impl
    finally:
        impl.close()
        if server is not None:
            server.cleanup()


def test_ensure_is_idempotent(backend: NetworkBackend) -> None:
    for _ in range(2):
        backend.ensure_network(NET)
        backend.ensure_subnet(SUB)
        backend.ensure_security_group(SG)
        backend.ensure_port(PORT)
        backend.ensure_port(ROUTER_PORT)
        backend.ensure_router(ROUTER)
    report = backend.sync(EVERYTHING)
    assert (report.created, report.deleted) == (0, 0)
    assert report.port_up == {PORT.id: False, ROUTER_PORT.id: False}
    assert backend.port_up(PORT.id) is False


def test_port_needs_its_network(backend: NetworkBackend) -> None:
    with pytest.raises(BackendUnavailable):
        backend.ensure_port(PORT)


def test_deletes_of_absent_objects_are_no_ops(backend: NetworkBackend) -> None:
    backend.delete_port(PORT.id)
    backend.delete_subnet(SUB.id)
    backend.delete_security_group(SG.id)
    backend.delete_router(ROUTER.id)
    backend.delete_network(NET.id)
    assert backend.port_up(PORT.id) is None


def test_sync_creates_then_removes(backend: NetworkBackend) -> None:
    report = backend.sync(EVERYTHING)
    assert report.created > 0
    assert backend.port_up(PORT.id) is False
    report = backend.sync(DesiredState())
    assert report.deleted > 0
    assert backend.port_up(PORT.id) is None
    assert backend.sync(DesiredState()).deleted == 0


def test_delete_network_removes_its_ports(backend: NetworkBackend) -> None:
    backend.sync(EVERYTHING)
    backend.delete_router(ROUTER.id)
    backend.delete_network(NET.id)
    assert backend.port_up(PORT.id) is None


def test_port_status_is_reported(backend: NetworkBackend) -> None:
    backend.sync(EVERYTHING)
    events: list[Any] = backend.events  # type: ignore[attr-defined]
    if backend.server is not None:  # type: ignore[attr-defined]
        backend.server.nbctl("set", "Logical_Switch_Port", PORT.id, "up=true")  # type: ignore[attr-defined]
    else:
        backend.set_port_up(PORT.id, True)  # type: ignore[attr-defined]
    wait_for(lambda: PortStatusEvent(PORT.id, True) in events, 10, "the port-up event")
    wait_for(lambda: backend.port_up(PORT.id) is True, 10, "port_up() to say so")
