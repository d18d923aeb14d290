"""Compute with a REAL network service: ports bound by the conductor, addresses, delete, the vif-plugged wait.

The network service (fake data plane) and compute API run in-process and reach each other through
httpx transports; the conductor binds ports with a service token ("admin"), the network service's
compute notifier posts ``network-vif-plugged`` to the compute API, which casts it to the agent. A fake
network agent on ``network-agent.<host>`` plays ovn-controller: ``plug_vif`` marks the port up in the
fake data plane (unless told to leave it down).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stratus.compute.client import ComputeClient
from stratus.compute.core.network_binder import NetworkApiBinder
from stratus.compute.messages import InstanceSpec
from stratus.compute.ports import InstancePorts
from stratus.compute.service import ComputeService
from stratus.compute.virt.base import ImageSource
from stratus.compute.virt.fake import FakeDriver
from stratus.compute.workers import ComputeWorkers
from stratus.core.api.auth import Authenticator, StaticValidator
from stratus.core.bus import Bus
from stratus.image.service import ImageService
from stratus.network.core.compute_notifier import ComputeNotifier
from stratus.network.service import NetworkService
from tests.functional.compute.conftest import (
    HOST,
    PERSONAS,
    PROJECT_A,
    Api,
    ClientTransport,
    TransportImageSource,
    _service_up,
    make_config,
    wait_for,
)

NETWORK_URL = "http://network.test"
COMPUTE_URL = "http://compute.test"
VIF_TIMEOUT = 2.0


class FakeNetworkAgent:
    """``network-agent.<host>``: plugging a VIF binds its port in the fake data plane, as ovn-controller would."""

    def __init__(self, network: NetworkService):
        self._network = network
        self.plugged: list[dict[str, Any]] = []
        self.unplugged: list[dict[str, Any]] = []
        self.ports_come_up = True

    def plug_vif(self, port_id: str, network_id: str, mac_address: str, devname: str, mtu: int) -> None:
        self.plugged.append({"port_id": port_id, "network_id": network_id, "mac": mac_address, "devname": devname})
        if self.ports_come_up:
            self._network.backend.set_port_up(port_id, True)  # type: ignore[attr-defined]

    def unplug_vif(self, port_id: str, devname: str) -> None:
        self.unplugged.append({"port_id": port_id, "devname": devname})
        self._network.backend.set_port_up(port_id, False)  # type: ignore[attr-defined]


class NetApi(Api):
    """The compute Api plus the network API and the fake network agent."""

    net: TestClient
    network: NetworkService
    agent: FakeNetworkAgent
    workers: ComputeWorkers

    def n(self, method: str, path: str, as_: str = "member-a", status: int = 200, **kw: Any) -> Any:
        resp = self.net.request(method, path, headers={"X-Auth-Token": as_}, **kw)
        assert resp.status_code == status, resp.text
        return resp.json() if resp.content else None

    def network_with_subnet(self, cidr: str = "10.0.0.0/24", as_: str = "member-a", **subnet: Any) -> str:
        net = self.n("POST", "/v2.0/networks", as_, 201, json={"network": {"name": f"net-{cidr}"}})["network"]
        body = {"subnet": {"network_id": net["id"], "cidr": cidr, "ip_version": 4, **subnet}}
        self.n("POST", "/v2.0/subnets", as_, 201, json=body)
        return net["id"]  # type: ignore[no-any-return]

    def ports_of(self, server_id: str) -> list[dict[str, Any]]:
        return self.n("GET", f"/v2.0/ports?device_id={server_id}", "admin")["ports"]  # type: ignore[no-any-return]

    def fault(self, server_id: str) -> str:
        server = self.wait_status(server_id, "ERROR")
        return str(server["fault"]["message"])

    def plug_vifs(self) -> None:
        self.workers.agents[HOST].driver.plugs_vifs = True  # type: ignore[misc]


@pytest.fixture
def napi(tmp_path: Path) -> Iterator[NetApi]:
    config = make_config(tmp_path, network_url=NETWORK_URL).with_overrides(
        network={"backend": "fake"}, compute_agent={"vif_plugging_timeout": VIF_TIMEOUT}
    )
    auth = Authenticator(StaticValidator(PERSONAS))
    image_service = ImageService(config, authenticator=auth)
    image_client = TestClient(image_service.app, raise_server_exceptions=False)
    image_transport = ClientTransport(image_client)
    network = NetworkService(config, authenticator=auth)
    network.start()
    net_client = TestClient(network.app, raise_server_exceptions=False)
    net_transport = ClientTransport(TestClient(network.app, raise_server_exceptions=False))
    ports = InstancePorts(NETWORK_URL, lambda: "admin", transport=net_transport)
    bus = Bus("memory://", name=f"test-{uuid.uuid4().hex[:8]}", default_timeout=10.0)
    agent = FakeNetworkAgent(network)
    agent_server = bus.serve(f"network-agent.{HOST}", agent, workers=2)
    service = ComputeService(
        config,
        bus,
        authenticator=auth,
        image_transport=image_transport,
        network=NetworkApiBinder(NETWORK_URL, transport=net_transport, ports=ports),
    )
    workers = ComputeWorkers(
        service,
        bus,
        service.db,
        image_source_factory=lambda ctx: TransportImageSource(image_transport, str(ctx.get("auth_token") or "")),
        ports=ports,
    )
    workers.start()
    client = TestClient(service.app, raise_server_exceptions=False)
    compute_transport = ClientTransport(TestClient(service.app, raise_server_exceptions=False))
    notifier = ComputeNotifier(lambda: ComputeClient(COMPUTE_URL, lambda: "admin", transport=compute_transport))
    network.dataplane.status_listeners.append(notifier)
    api = NetApi(client, service, image_client)
    api.net, api.network, api.agent, api.workers = net_client, network, agent, workers
    wait_for(lambda: _service_up(service), "the fake agent's heartbeat")
    api.image_id = api.make_image(name="cirros")
    api.flavor_id = api.make_flavor("m1.tiny")
    try:
        yield api
    finally:
        notifier.close()
        workers.stop()
        agent_server.stop()
        client.close()
        net_client.close()
        bus.close()
        service.close()
        network.close()
        image_client.close()
        image_service.close()


def test_server_on_a_network_gets_a_bound_port_and_addresses(napi: NetApi) -> None:
    net = napi.network_with_subnet()
    server = napi.active(networks=[{"uuid": net}])
    (port,) = napi.ports_of(server["id"])
    assert port["device_owner"] == "compute:nova" and port["binding:host_id"] == HOST
    assert port["project_id"] == PROJECT_A and port["network_id"] == net
    ip = port["fixed_ips"][0]["ip_address"]
    assert server["addresses"] == {
        "net-10.0.0.0/24": [
            {"addr": ip, "version": 4, "OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": port["mac_address"]}
        ]
    }
    # openstack port list --server S: the user sees it by device_id
    mine = napi.n("GET", f"/v2.0/ports?device_id={server['id']}")["ports"]
    assert [p["id"] for p in mine] == [port["id"]]
    (iface,) = napi.ok("GET", f"/servers/{server['id']}/os-interface")["interfaceAttachments"]
    assert iface == {
        "port_state": port["status"],
        "fixed_ips": [{"subnet_id": port["fixed_ips"][0]["subnet_id"], "ip_address": ip}],
        "port_id": port["id"],
        "net_id": net,
        "mac_addr": port["mac_address"],
    }
    assert napi.ok("GET", f"/servers/{server['id']}/os-interface/{port['id']}")["interfaceAttachment"] == iface
    assert napi("GET", f"/servers/{server['id']}/os-interface/{uuid.uuid4()}").status_code == 404
    assert napi("GET", f"/servers/{server['id']}/os-interface", "member-b").status_code == 404
    # GET /servers/{id}/ips: the same addresses, version and address only, per network label
    label = "net-10.0.0.0/24"
    assert napi.ok("GET", f"/servers/{server['id']}/ips") == {"addresses": {label: [{"version": 4, "addr": ip}]}}
    assert napi.ok("GET", f"/servers/{server['id']}/ips/{label}") == {label: [{"version": 4, "addr": ip}]}
    assert napi("GET", f"/servers/{server['id']}/ips/elsewhere").status_code == 404
    assert napi("GET", f"/servers/{server['id']}/ips", "member-b").status_code == 404
    # PUT answers (and rebuild ones) leave the OS-EXT-IPS keys out before 2.75, as Nova's do
    renamed = napi.ok("PUT", f"/servers/{server['id']}", json={"server": {"name": "renamed"}})["server"]
    assert renamed["addresses"] == {label: [{"version": 4, "addr": ip}]}
    renamed = napi.ok("PUT", f"/servers/{server['id']}", version="2.75", json={"server": {"name": "again"}})["server"]
    assert renamed["addresses"] == server["addresses"]
    napi.ok("DELETE", f"/servers/{server['id']}", status=204)
    napi.wait_gone(server["id"])
    wait_for(lambda: not napi.ports_of(server["id"]), "the port to be deleted")


def test_the_servers_security_groups_guard_its_ports(napi: NetApi) -> None:
    net = napi.network_with_subnet()
    web = napi.n("POST", "/v2.0/security-groups", status=201, json={"security_group": {"name": "web"}})
    web_id = web["security_group"]["id"]
    others = napi.n("POST", "/v2.0/security-groups", "member-b", 201, json={"security_group": {"name": "theirs"}})
    # by name and by id, as Nova accepts; the port compute creates is in exactly those groups
    server = napi.active(networks=[{"uuid": net}], security_groups=[{"name": "web"}, {"name": web_id}])
    (port,) = napi.ports_of(server["id"])
    assert port["security_groups"] == [web_id]
    assert [g["name"] for g in napi.server(server["id"])["security_groups"]] == ["web", web_id]
    # without groups: the project's default one
    plain = napi.active(networks=[{"uuid": net}])
    default = napi.n("GET", "/v2.0/security-groups?name=default")["security_groups"][0]["id"]
    assert napi.ports_of(plain["id"])[0]["security_groups"] == [default]
    # a group that does not exist, or is another project's: 400 and no server
    before = len(napi.ok("GET", "/servers")["servers"])
    for missing in ("nosuch", others["security_group"]["id"]):
        server = {"name": "x", "imageRef": napi.image_id, "flavorRef": napi.flavor_id, "networks": [{"uuid": net}]}
        resp = napi("POST", "/servers", json={"server": {**server, "security_groups": [{"name": missing}]}})
        assert resp.status_code == 400, resp.text
        assert resp.json()["badRequest"]["message"] == f"Security group {missing} not found for project {PROJECT_A}."
    assert len(napi.ok("GET", "/servers")["servers"]) == before


def test_add_and_remove_security_group_actions_change_the_ports(napi: NetApi) -> None:
    """``openstack server add/remove security group``: the group goes on (off) every port of the server."""
    net = napi.network_with_subnet()
    web = napi.n("POST", "/v2.0/security-groups", status=201, json={"security_group": {"name": "web"}})[
        "security_group"
    ]
    default = napi.n("GET", "/v2.0/security-groups?name=default")["security_groups"][0]["id"]
    server = napi.active(networks=[{"uuid": net}])
    sid = server["id"]

    def groups_on_port() -> set[str]:
        return set(napi.ports_of(sid)[0]["security_groups"])

    assert napi.action(sid, {"addSecurityGroup": {"name": "web"}}).status_code == 202
    assert groups_on_port() == {default, web["id"]}
    assert napi.action(sid, {"addSecurityGroup": {"name": "web"}}).status_code == 202  # already there: unchanged
    assert groups_on_port() == {default, web["id"]}
    assert [g["name"] for g in napi.server(sid)["security_groups"]] == ["default", "web"]
    assert napi.action(sid, {"removeSecurityGroup": {"name": "default"}}).status_code == 202
    assert groups_on_port() == {web["id"]}
    assert [g["name"] for g in napi.server(sid)["security_groups"]] == ["web"]
    assert napi.action(sid, {"removeSecurityGroup": {"name": "web"}}).status_code == 202
    assert groups_on_port() == set() and "security_groups" not in napi.server(sid)  # Nova leaves the key out
    assert napi.action(sid, {"addSecurityGroup": {"name": "web"}}).status_code == 202
    # errors as Nova's: not on the server 400, unknown group 404, no name 400, others 404, readers 403
    assert napi.action(sid, {"removeSecurityGroup": {"name": "default"}}).status_code == 400
    assert napi.action(sid, {"addSecurityGroup": {"name": "nosuch"}}).status_code == 404
    assert napi.action(sid, {"addSecurityGroup": {}}).status_code == 400
    assert napi.action(sid, {"addSecurityGroup": {"name": "default"}}, "member-b").status_code == 404
    assert napi.action(sid, {"addSecurityGroup": {"name": "default"}}, "reader-a").status_code == 403
    assert groups_on_port() == {web["id"]}
    portless = napi.active(networks="none", version="2.37")
    assert napi.action(portless["id"], {"addSecurityGroup": {"name": "web"}}).status_code == 404


def test_fixed_ip_and_user_port_is_unbound_not_deleted(napi: NetApi) -> None:
    net = napi.network_with_subnet()
    user_port = napi.n("POST", "/v2.0/ports", status=201, json={"port": {"network_id": net}})["port"]
    server = napi.active(networks=[{"port": user_port["id"]}, {"uuid": net, "fixed_ip": "10.0.0.50"}])
    ports = {p["id"]: p for p in napi.ports_of(server["id"])}
    assert set(ports) >= {user_port["id"]} and len(ports) == 2
    assert ports[user_port["id"]]["binding:host_id"] == HOST
    assert ports[user_port["id"]]["device_owner"] == "compute:nova"
    addrs = {a["addr"] for a in next(iter(server["addresses"].values()))}
    assert "10.0.0.50" in addrs and user_port["fixed_ips"][0]["ip_address"] in addrs
    napi.ok("DELETE", f"/servers/{server['id']}", status=204)
    napi.wait_gone(server["id"])
    wait_for(lambda: not napi.ports_of(server["id"]), "the ports to be released")
    kept = napi.n("GET", f"/v2.0/ports/{user_port['id']}", "admin")["port"]
    assert (kept["device_id"], kept["device_owner"], kept["binding:host_id"]) == ("", "", "")


class RecordingDriver(FakeDriver):
    """A fake host that records the VIFs each spawn got."""

    def __init__(self, **kw: Any):
        super().__init__(**kw)
        self.spawned: list[list[str]] = []

    def spawn(self, instance: InstanceSpec, images: ImageSource) -> None:
        self.spawned.append([v.port_id for v in instance.vifs])
        super().spawn(instance, images)


def test_reschedule_moves_the_port_binding(napi: NetApi) -> None:
    net = napi.network_with_subnet()
    napi.workers.stop_agent(HOST)
    failing = RecordingDriver(memory_mb=32768, fail_all_spawns="disk on fire")
    napi.workers.add_agent(HOST, failing)
    other = RecordingDriver(memory_mb=4096)  # less free RAM: tried second
    napi.workers.add_agent("fake-host-1", other)
    server = napi.active(networks=[{"uuid": net}])
    (port,) = napi.ports_of(server["id"])
    assert failing.spawned == [[port["id"]]] and other.spawned == [[port["id"]]]  # the same port, moved
    assert port["binding:host_id"] == "fake-host-1"
    assert napi.server(server["id"], "admin")["OS-EXT-SRV-ATTR:host"] == "fake-host-1"


def test_bad_networks_and_ports_are_refused(napi: NetApi) -> None:
    net = napi.network_with_subnet()
    theirs = napi.network_with_subnet("10.9.0.0/24", as_="member-b")
    unknown = str(uuid.uuid4())
    resp = napi("POST", "/servers", json=_body(napi, [{"uuid": unknown}]))
    assert resp.status_code == 400 and resp.json()["badRequest"]["message"] == f"Network {unknown} could not be found."
    resp = napi("POST", "/servers", json=_body(napi, [{"uuid": theirs}]))
    assert resp.status_code == 400, resp.text
    resp = napi("POST", "/servers", json=_body(napi, [{"port": unknown}]))
    assert resp.status_code == 400 and resp.json()["badRequest"]["message"] == f"Port id {unknown} could not be found."
    used = napi.n("POST", "/v2.0/ports", status=201, json={"port": {"network_id": net, "device_id": "x"}})["port"]
    resp = napi("POST", "/servers", json=_body(napi, [{"port": used["id"]}]))
    assert (
        resp.status_code == 409
        and resp.json()["conflictingRequest"]["message"] == f"Port {used['id']} is still in use."
    )
    napi.network_with_subnet("10.1.0.0/24")  # two usable networks: "auto" cannot choose
    resp = napi("POST", "/servers", json=_body(napi, "auto"), headers={"OpenStack-API-Version": "compute 2.37"})
    assert resp.status_code == 409 and "More than one possible network found" in resp.text
    resp = napi("POST", "/servers", json=_body(napi, None))  # before 2.37 no networks means auto
    assert resp.status_code == 409, resp.text


def test_auto_picks_the_only_network_and_none_has_no_nic(napi: NetApi) -> None:
    net = napi.network_with_subnet()
    server = napi.active()
    (port,) = napi.ports_of(server["id"])
    assert port["network_id"] == net
    bare = napi.wait_status(napi.boot(version="2.37", networks="none")["server"]["id"], "ACTIVE")
    assert bare["addresses"] == {} and not napi.ports_of(bare["id"])


def test_ip_exhaustion_and_taken_fixed_ip_end_in_error_without_leaks(napi: NetApi) -> None:
    pools = [{"start": "10.0.0.10", "end": "10.0.0.11"}]  # one for the metadata port, one for a server
    net = napi.network_with_subnet(allocation_pools=pools)
    first = napi.active(networks=[{"uuid": net}])
    second = napi.boot(networks=[{"uuid": net}])["server"]["id"]
    assert (
        napi.fault(second) == f"Build of instance {second} aborted: No fixed IP addresses available for network: {net}"
    )
    assert not napi.ports_of(second) and napi.server(second)["addresses"] == {}
    assert napi.server(second, "admin")["OS-EXT-SRV-ATTR:host"] is None  # the claim was freed
    other = napi.network_with_subnet("10.2.0.0/24")
    napi.active(networks=[{"uuid": other, "fixed_ip": "10.2.0.20"}])
    third = napi.boot(networks=[{"uuid": other}, {"uuid": other, "fixed_ip": "10.2.0.20"}])["server"]["id"]
    assert "Fixed IP address 10.2.0.20 is already in use." in napi.fault(third)
    assert not napi.ports_of(third)  # the port made on the first network was deleted too
    assert len(napi.ports_of(first["id"])) == 1


def test_build_waits_for_network_vif_plugged(napi: NetApi) -> None:
    napi.plug_vifs()
    net = napi.network_with_subnet()
    server = napi.active(networks=[{"uuid": net}])
    (port,) = napi.ports_of(server["id"])
    assert port["status"] == "ACTIVE"
    (plug,) = napi.agent.plugged
    assert plug == {
        "port_id": port["id"],
        "network_id": net,
        "mac": port["mac_address"],
        "devname": f"tap{port['id'][:11]}",
    }
    napi.ok("DELETE", f"/servers/{server['id']}", status=204)
    napi.wait_gone(server["id"])
    assert napi.agent.unplugged == [{"port_id": port["id"], "devname": f"tap{port['id'][:11]}"}]
    wait_for(lambda: not napi.ports_of(server["id"]), "the port to be deleted")


def test_port_never_reported_up_fails_the_build(napi: NetApi) -> None:
    napi.plug_vifs()
    net = napi.network_with_subnet()
    napi.agent.ports_come_up = False
    server_id = napi.boot(networks=[{"uuid": net}])["server"]["id"]
    fault = napi.fault(server_id)
    port_id = napi.agent.plugged[0]["port_id"]
    assert fault == (
        f"Virtual Interface creation failed: port(s) {port_id} not reported up by the network service "
        f"within {VIF_TIMEOUT:g} s"
    )
    assert [u["port_id"] for u in napi.agent.unplugged] == [port_id]
    assert len(napi.agent.plugged) == 1  # not rescheduled
    wait_for(lambda: not napi.ports_of(server_id), "the port to be released")


def _body(napi: NetApi, networks: Any) -> dict[str, Any]:
    server: dict[str, Any] = {"name": "vm", "imageRef": napi.image_id, "flavorRef": napi.flavor_id}
    if networks is not None:
        server["networks"] = networks
    return {"server": server}


def test_network_service_notifies_compute_only_when_configured(tmp_path: Path) -> None:
    base = make_config(tmp_path).with_overrides(network={"backend": "fake", "compute_url": COMPUTE_URL})
    for config, wired in ((base, False), (base.with_overrides(service_auth={"password": "pw"}), True)):
        network = NetworkService(config, authenticator=Authenticator(StaticValidator(PERSONAS)))
        try:
            assert (network.compute_notifier is not None) is wired
            assert (network.compute_notifier in network.dataplane.status_listeners) is wired
        finally:
            network.close()


def test_migration_and_evacuation_move_the_port_binding_and_the_vifs(napi: NetApi) -> None:
    """Cold migration plugs at the destination (waiting for vif-plugged) and unplugs at the source on confirm;
    evacuation binds and plugs on the new host, and the old host unplugs when it comes back."""
    napi.plug_vifs()
    net = napi.network_with_subnet()
    server = napi.active(networks=[{"uuid": net}])
    sid = server["id"]
    (port,) = napi.ports_of(sid)
    tap = {"port_id": port["id"], "devname": f"tap{port['id'][:11]}"}
    other = "fake-host-1"
    other_agent = FakeNetworkAgent(napi.network)
    other_server = napi.workers.bus.serve(f"network-agent.{other}", other_agent, workers=2)
    try:
        driver = FakeDriver()
        driver.plugs_vifs = True  # type: ignore[misc]
        napi.workers.add_agent(other, driver)
        wait_for(lambda: _service_up(napi.service, other), f"the heartbeat of {other}")
        assert napi.action(sid, {"migrate": None}, "admin").status_code == 202
        napi.wait_status(sid, "VERIFY_RESIZE")
        assert napi.server(sid, "admin")["OS-EXT-SRV-ATTR:host"] == other
        (moved,) = napi.ports_of(sid)
        assert moved["binding:host_id"] == other and moved["status"] == "ACTIVE"
        assert [p["port_id"] for p in other_agent.plugged] == [port["id"]]
        assert napi.agent.unplugged == []  # the source keeps its tap until confirm (for a revert)
        assert napi.action(sid, {"confirmResize": None}, "admin").status_code == 204
        napi.wait_status(sid, "ACTIVE")
        wait_for(lambda: napi.agent.unplugged == [tap], "the source to unplug the VIF")
        assert napi.server(sid)["addresses"] == server["addresses"]  # same port, same address
        # the new host fails (fenced and forced down): evacuate back
        svc = next(s for s in napi.ok("GET", "/os-services", "admin", version="2.53")["services"] if s["host"] == other)
        napi.ok("PUT", f"/os-services/{svc['id']}", "admin", version="2.53", json={"forced_down": True})
        napi.workers.stop_agent(other)
        resp = napi.action(sid, {"evacuate": {}}, "admin", headers={"OpenStack-API-Version": "compute 2.14"})
        assert resp.status_code == 200, resp.text
        napi.wait_status(sid, "ACTIVE")
        assert napi.server(sid, "admin")["OS-EXT-SRV-ATTR:host"] == HOST
        (back,) = napi.ports_of(sid)
        assert back["binding:host_id"] == HOST and back["status"] == "ACTIVE"
        assert [p["port_id"] for p in napi.agent.plugged] == [port["id"], port["id"]]
        assert other_agent.unplugged == []
        napi.workers.add_agent(other, driver)  # it comes back: drops its copy and its tap
        assert sid not in {g.uuid for g in driver.list_instances()}
        wait_for(lambda: other_agent.unplugged == [tap], "the old host to unplug the VIF")
        assert napi.ports_of(sid)[0]["binding:host_id"] == HOST  # its unplug did not take the port away
    finally:
        other_server.stop()
