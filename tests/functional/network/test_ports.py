"""Ports: IPAM (explicit, automatic, exhausted, concurrent), MACs, binding, port security, status."""

from __future__ import annotations

import ipaddress
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.functional.network.conftest import Api

SUBNET_ID = "11111111-2222-3333-4444-555555555555"


def test_port_defaults(api: Api) -> None:
    net, sub = api.network_with_subnet()
    port = api.create("port", network_id=net["id"], name="p")
    assert port["status"] == "DOWN" and port["admin_state_up"] is True
    assert port["mac_address"].startswith("fa:16:3e:")
    ip = port["fixed_ips"][0]
    assert ip["subnet_id"] == sub["id"] and ipaddress.ip_address(ip["ip_address"]) in ipaddress.ip_network(
        "10.0.0.0/24"
    )
    assert ip["ip_address"] not in ("10.0.0.0", "10.0.0.1", "10.0.0.255")
    default = next(g for g in api.ok("GET", "/v2.0/security-groups")["security_groups"] if g["name"] == "default")
    assert port["security_groups"] == [default["id"]] and port["port_security_enabled"] is True
    assert "binding:host_id" not in port
    admin = api.ok("GET", f"/v2.0/ports/{port['id']}", "admin")["port"]
    assert admin["binding:vif_type"] == "unbound" and admin["binding:host_id"] == ""


def test_fixed_ip_requests(api: Api) -> None:
    net, sub = api.network_with_subnet()
    port = api.create("port", network_id=net["id"], fixed_ips=[{"ip_address": "10.0.0.50"}])
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.0.0.50"}]
    by_subnet = api.create("port", network_id=net["id"], fixed_ips=[{"subnet_id": sub["id"]}])
    assert by_subnet["fixed_ips"][0]["subnet_id"] == sub["id"]

    def post(fixed: list) -> object:
        return api("POST", "/v2.0/ports", json={"port": {"network_id": net["id"], "fixed_ips": fixed}})

    api.error(post([{"ip_address": "10.0.0.50"}]), 409, "IpAddressAlreadyAllocated")
    api.error(post([{"subnet_id": sub["id"], "ip_address": "10.9.9.9"}]), 400, "InvalidIpForSubnet")
    api.error(post([{"subnet_id": sub["id"], "ip_address": "10.0.0.255"}]), 400, "InvalidIpForSubnet")
    api.error(post([{"ip_address": "192.168.7.7"}]), 400, "InvalidIpForNetwork")
    api.error(post([{"subnet_id": SUBNET_ID}]), 400)
    api.error(post([{"ip_address": "not-an-ip"}]), 400)
    api.error(post([{"subnet_id": sub["id"], "ip_address": "10.0.0.1"}]), 409, "IpAddressAlreadyAllocated")
    empty = api.create("port", network_id=net["id"], fixed_ips=[])
    assert empty["fixed_ips"] == []


def test_mac_address(api: Api) -> None:
    net, _ = api.network_with_subnet()
    port = api.create("port", network_id=net["id"], mac_address="fa:16:3e:00:00:01")
    assert port["mac_address"] == "fa:16:3e:00:00:01"
    dup = api("POST", "/v2.0/ports", json={"port": {"network_id": net["id"], "mac_address": "fa:16:3e:00:00:01"}})
    api.error(dup, 409, "MacAddressInUse")
    bad = api("POST", "/v2.0/ports", json={"port": {"network_id": net["id"], "mac_address": "zz:16:3e:00:00:01"}})
    api.error(bad, 400)


def test_pool_exhaustion(api: Api) -> None:
    net, sub = api.network_with_subnet("10.9.0.0/29", enable_dhcp=False)  # .2 - .6: five addresses
    for _ in range(5):
        api.create("port", network_id=net["id"])
    api.error(api("POST", "/v2.0/ports", json={"port": {"network_id": net["id"]}}), 409, "IpAddressGenerationFailure")


def test_concurrent_creates_never_share_an_address(api: Api) -> None:
    net, sub = api.network_with_subnet("10.8.0.0/28")  # 13 pool addresses, one goes to the metadata port

    def create(_n: int) -> object:
        return api("POST", "/v2.0/ports", json={"port": {"network_id": net["id"]}})

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(create, range(20)))
    made = [r.json()["port"] for r in results if r.status_code == 201]
    failed = [r for r in results if r.status_code != 201]
    assert len(made) == 12
    assert all(
        r.status_code == 409 and r.json()["NeutronError"]["type"] == "IpAddressGenerationFailure" for r in failed
    )
    ports = api.ok("GET", f"/v2.0/ports?network_id={net['id']}")["ports"]
    ips = [ip["ip_address"] for p in ports for ip in p["fixed_ips"]]
    macs = [p["mac_address"] for p in ports]
    assert len(ips) == len(set(ips)) == 13 and len(macs) == len(set(macs))


def test_update_port(api: Api) -> None:
    net, sub = api.network_with_subnet()
    # two addresses no port holds yet (the network's own ports take theirs at random in the pool)
    taken = {ip["ip_address"] for p in api.ok("GET", "/v2.0/ports", "admin")["ports"] for ip in p["fixed_ips"]}
    first, second = [a for a in (f"10.0.0.{i}" for i in range(20, 60)) if a not in taken][:2]
    port = api.create("port", network_id=net["id"], fixed_ips=[{"ip_address": first}])
    body = {
        "port": {
            "name": "n",
            "device_id": "vm",
            "device_owner": "compute:nova",
            "fixed_ips": [{"ip_address": second}],
        }
    }
    updated = api.ok("PUT", f"/v2.0/ports/{port['id']}", json=body)["port"]
    assert updated["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": second}]
    assert updated["device_owner"] == "compute:nova" and updated["revision_number"] == 1
    again = api.create("port", network_id=net["id"], fixed_ips=[{"ip_address": first}])  # released
    clash = api("PUT", f"/v2.0/ports/{again['id']}", json={"port": {"fixed_ips": [{"ip_address": second}]}})
    api.error(clash, 409, "IpAddressAlreadyAllocated")
    api.error(api("PUT", f"/v2.0/ports/{port['id']}", json={"port": {"network_id": net["id"]}}), 400)


def test_binding_is_admin_only(api: Api) -> None:
    net, _ = api.network_with_subnet()
    port = api.create("port", network_id=net["id"])
    body = {"port": {"binding:host_id": "host1"}}
    api.error(api("PUT", f"/v2.0/ports/{port['id']}", json=body), 403)
    bound = api.ok("PUT", f"/v2.0/ports/{port['id']}", "admin", json=body)["port"]
    assert bound["binding:host_id"] == "host1" and bound["binding:vif_type"] == "ovs"
    assert bound["binding:vif_details"]["port_filter"] is True
    api.error(api("POST", "/v2.0/ports", json={"port": {"network_id": net["id"], "binding:host_id": "h"}}), 403)


def test_port_security_and_address_pairs(api: Api) -> None:
    net, _ = api.network_with_subnet()
    port = api.create("port", network_id=net["id"], allowed_address_pairs=[{"ip_address": "10.0.0.200"}])
    assert port["allowed_address_pairs"] == [{"ip_address": "10.0.0.200", "mac_address": port["mac_address"]}]
    open_port = api.create("port", network_id=net["id"], port_security_enabled=False)
    assert open_port["security_groups"] == [] and open_port["port_security_enabled"] is False
    body = {
        "port": {
            "network_id": net["id"],
            "port_security_enabled": False,
            "allowed_address_pairs": [{"ip_address": "10.0.0.9"}],
        }
    }
    api.error(api("POST", "/v2.0/ports", json=body), 409, "AddressPairAndPortSecurityRequired")
    sg = api.create("security_group", name="x")
    body = {"port": {"network_id": net["id"], "port_security_enabled": False, "security_groups": [sg["id"]]}}
    api.error(api("POST", "/v2.0/ports", json=body), 400, "PortSecurityAndIPRequiredForSecurityGroups")
    off = api.ok(
        "PUT", f"/v2.0/ports/{port['id']}", json={"port": {"allowed_address_pairs": [], "port_security_enabled": False}}
    )
    assert off["port"]["security_groups"] == []


def test_port_with_other_projects_group(api: Api) -> None:
    net, _ = api.network_with_subnet()
    theirs = api.create("security_group", "member-b", name="theirs")
    body = {"port": {"network_id": net["id"], "security_groups": [theirs["id"]]}}
    api.error(api("POST", "/v2.0/ports", json=body), 404, "SecurityGroupNotFound")


def test_port_status_from_data_plane(api: Api) -> None:
    net, _ = api.network_with_subnet()
    port = api.create("port", network_id=net["id"], device_id="vm-9")
    events: list[tuple[str, str, dict]] = []
    api.service.dataplane.status_listeners.append(lambda e, p, payload: events.append((e, p, payload)))
    api.service.backend.set_port_up(port["id"], True)  # type: ignore[attr-defined]
    assert api.ok("GET", f"/v2.0/ports/{port['id']}")["port"]["status"] == "ACTIVE"
    assert events[0][0] == "network.port.up" and events[0][2]["device_id"] == "vm-9"
    api.service.backend.set_port_up(port["id"], False)  # type: ignore[attr-defined]
    assert api.ok("GET", f"/v2.0/ports/{port['id']}")["port"]["status"] == "DOWN"
    assert events[-1][0] == "network.port.down"
    resp = api("PUT", f"/internal/ports/{port['id']}/status", "admin", json={"status": "ACTIVE"})
    assert resp.status_code == 200, resp.text
    api.error(api("PUT", f"/internal/ports/{port['id']}/status", json={"status": "ACTIVE"}), 403)
    api.error(api("PUT", f"/internal/ports/{port['id']}/status", "admin", json={"status": "UP"}), 400)
    assert api.service.set_port_status("00000000-0000-0000-0000-000000000000", "ACTIVE") is None


def test_delete_port_releases_address(api: Api) -> None:
    net, _ = api.network_with_subnet()
    port = api.create("port", network_id=net["id"], fixed_ips=[{"ip_address": "10.0.0.77"}])
    api.ok("DELETE", f"/v2.0/ports/{port['id']}", status=204)
    api.error(api("GET", f"/v2.0/ports/{port['id']}"), 404, "PortNotFound")
    api.create("port", network_id=net["id"], fixed_ips=[{"ip_address": "10.0.0.77"}])


def test_status_over_the_bus(tmp_path: object) -> None:
    """The host side may report port status with a bus call to the ``network-server`` topic."""
    from pathlib import Path

    from stratus.core.api.auth import Authenticator, StaticValidator
    from stratus.core.bus import Bus
    from stratus.network.service import STATUS_TOPIC, NetworkService
    from tests.functional.network.conftest import PERSONAS, make_config

    with Bus("memory://", name=f"net-test-{id(tmp_path)}") as bus:
        seen: list[tuple[str, dict]] = []
        bus.subscribe("network.port.*", lambda e, payload: seen.append((e, payload)))
        service = NetworkService(
            make_config(Path(str(tmp_path))), bus, authenticator=Authenticator(StaticValidator(PERSONAS))
        )
        try:
            service.start()
            ctx = PERSONAS["member-a"]
            net = service.networks.create(ctx, {"network": {}})
            service.subnets.create(ctx, {"subnet": {"network_id": net["id"], "cidr": "10.0.0.0/24", "ip_version": 4}})
            port = service.ports.create(ctx, {"port": {"network_id": net["id"], "device_id": "vm-7"}})
            assert bus.call(STATUS_TOPIC, "set_port_status", port_id=port["id"], status="ACTIVE", timeout=10) is True
            assert service.ports.show(ctx, port["id"])["status"] == "ACTIVE"
            from tests.functional.network.ovn_server import wait_for

            wait_for(lambda: bool(seen), 10, "network.port.up")
            assert seen[0] == (
                "network.port.up",
                {
                    "port_id": port["id"],
                    "device_id": "vm-7",
                    "device_owner": "",
                    "host": "",
                    "network_id": net["id"],
                    "status": "ACTIVE",
                },
            )
        finally:
            service.close()


def test_a_resync_report_overtaken_by_a_port_up_does_not_mark_the_port_down(
    api: Api,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After an NB wipe the resync recreates a port's row unbound and reports it down, but ovn-controller may
    bind it (a port-up event) before the pass records that report: the port stays ACTIVE, compute hears no
    network-vif-unplugged, instead of DOWN until the next pass."""
    net, _ = api.network_with_subnet()
    port = api.create("port", network_id=net["id"], device_id="vm-9", device_owner="compute:nova")
    backend: Any = api.service.backend
    backend.set_port_up(port["id"], True)
    assert api.ok("GET", f"/v2.0/ports/{port['id']}")["port"]["status"] == "ACTIVE"
    events: list[str] = []
    api.service.dataplane.status_listeners.append(lambda e, p, payload: events.append(e))
    backend.up[port["id"]] = False  # the wiped NB's new row: not bound yet (a new row raises no event)
    real_sync = backend.sync

    def sync_then_bound(desired: Any) -> Any:
        report = real_sync(desired)  # reports the port down
        backend.set_port_up(port["id"], True)  # ovn-controller binds it before the pass records the report
        return report

    monkeypatch.setattr(backend, "sync", sync_then_bound)
    assert api.service.dataplane.resync()
    assert api.ok("GET", f"/v2.0/ports/{port['id']}")["port"]["status"] == "ACTIVE"
    assert "network.port.down" not in events, events


def test_the_networks_metadata_port_takes_the_first_free_address(api: Api) -> None:
    """Not a random one: a user asking for a fixed address in the pool never finds it taken by the network."""
    net, sub = api.network_with_subnet()
    ports = api.ok("GET", f"/v2.0/ports?network_id={net['id']}&device_owner=network:distributed", "admin")["ports"]
    assert [p["fixed_ips"] for p in ports] == [[{"subnet_id": sub["id"], "ip_address": "10.0.0.2"}]]
