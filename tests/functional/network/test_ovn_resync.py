"""Resync against a real NB ovsdb-server: a wiped NB DB, an NB outage during API calls, and drift.

Decision (documented in stratus/network/core/dataplane.py): the database is the truth. When the NB DB
cannot be reached, API calls still succeed (201/204) with the database committed; the data plane
change is deferred to the resync loop, which runs at start, every resync_interval, after any failed
push and whenever the NB connection comes back; it makes the NB match the database exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.functional.network.conftest import Api
from tests.functional.network.ovn_server import NbServer, needs_ovn, wait_for

pytestmark = needs_ovn


def _topology(api: Api) -> dict[str, Any]:
    ext, _ = api.external_network()
    net, sub = api.network_with_subnet()
    router = api.create("router", name="r", external_gateway_info={"network_id": ext["id"]})
    api.ok("PUT", f"/v2.0/routers/{router['id']}/add_router_interface", json={"subnet_id": sub["id"]})
    port = api.create("port", network_id=net["id"])
    fip = api.create("floatingip", floating_network_id=ext["id"], port_id=port["id"])
    return {"ext": ext, "net": net, "sub": sub, "router": router, "port": port, "fip": fip}


def _snapshot(nb: NbServer) -> dict[str, list[str]]:
    """What the NB holds, in a form that does not depend on row UUIDs."""
    return {
        "switches": sorted(nb.find("Logical_Switch")),
        "ports": sorted(nb.find("Logical_Switch_Port")),
        "routers": sorted(nb.find("Logical_Router")),
        "router_ports": sorted(nb.find("Logical_Router_Port")),
        "groups": sorted(nb.find("Port_Group")),
        "acls": sorted(nb.find("ACL", column="match")),
        "nat": sorted(nb.find("NAT", column="external_ip")),
        "dhcp": sorted(nb.find("DHCP_Options", column="options")),
        "routes": sorted(nb.find("Logical_Router_Static_Route", column="ip_prefix")),
        "chassis": sorted(nb.find("Gateway_Chassis")),
    }


def _matches(nb: NbServer, expected: dict[str, list[str]]) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return _snapshot(nb) == expected
        except RuntimeError:  # the server is still coming up
            return False

    return check


def test_wiped_nb_is_restored_without_api_calls(ovn_api: Api, nb_server: NbServer) -> None:
    _topology(ovn_api)
    before = _snapshot(nb_server)
    assert before["switches"] and before["acls"] and before["nat"] and before["dhcp"]
    nb_server.wipe()
    assert nb_server.find("Logical_Switch") == []
    try:
        wait_for(_matches(nb_server, before), 30, "the resync to restore the wiped NB DB")
    except AssertionError:
        after = _snapshot(nb_server)
        raise AssertionError(
            f"not restored: {[(k, v, after[k]) for k, v in before.items() if v != after[k]]}"
        ) from None


def test_nb_down_during_create_then_repaired(ovn_api: Api, nb_server: NbServer) -> None:
    nb_server.stop()
    wait_for(lambda: not ovn_api.service.backend.is_connected(), 10, "the service to notice the NB is gone")
    topo = _topology(ovn_api)  # every call succeeds: the database is the truth
    sg = ovn_api.create("security_group", name="later")
    assert ovn_api.ok("GET", f"/v2.0/ports/{topo['port']['id']}")["port"]["id"] == topo["port"]["id"]
    nb_server.start()  # same (pre-outage, empty) database file
    wait_for(lambda: f"neutron-{topo['net']['id']}" in nb_server.find("Logical_Switch"), 30, "the network switch")
    wait_for(lambda: topo["port"]["id"] in nb_server.find("Logical_Switch_Port"), 30, "the port")
    wait_for(lambda: "pg_" + sg["id"].replace("-", "_") in nb_server.find("Port_Group"), 30, "the port group")
    wait_for(lambda: len(nb_server.find("NAT", column="external_ip")) == 2, 30, "SNAT and the floating IP")


def test_drift_is_repaired_and_stale_rows_removed(ovn_api: Api, nb_server: NbServer) -> None:
    topo = _topology(ovn_api)
    ovn_api.ok("PUT", f"/v2.0/ports/{topo['port']['id']}", json={"port": {"name": "renamed"}})
    nb_server.assert_unique_names()
    before = _snapshot(nb_server)
    port_id, net_id = topo["port"]["id"], topo["net"]["id"]
    nb_server.nbctl("lsp-del", port_id)
    nb_server.nbctl("set", "Logical_Switch", f"neutron-{net_id}", 'external_ids:neutron\\:network_name="drifted"')
    nb_server.nbctl(
        "--",
        "--id=@ls",
        "create",
        "Logical_Switch",
        "name=neutron-00000000-0000-0000-0000-000000000001",
        'external_ids:neutron\\:network_name="ghost"',
    )
    nb_server.nbctl(
        "lr-nat-del", f"neutron-{topo['router']['id']}", "dnat_and_snat", topo["fip"]["floating_ip_address"]
    )
    nb_server.nbctl("ls-add", "not-ours")  # no neutron external_ids: left alone
    assert ovn_api.service.resync()
    report = ovn_api.service.dataplane.last_report
    assert report.created >= 2 and report.updated >= 1 and report.deleted >= 1
    after = _snapshot(nb_server)
    assert after["switches"] == sorted([*before["switches"], "not-ours"])
    assert {k: v for k, v in after.items() if k != "switches"} == {k: v for k, v in before.items() if k != "switches"}
    assert nb_server.nbctl("get", "Logical_Switch", f"neutron-{net_id}", "external_ids:neutron\\:network_name") == "net"
    assert ovn_api.service.resync() and ovn_api.service.dataplane.last_report.created == 0
    assert ovn_api.service.dataplane.last_report.updated == 0


def test_deletes_clean_the_nb(ovn_api: Api, nb_server: NbServer) -> None:
    topo = _topology(ovn_api)
    ovn_api.ok("DELETE", f"/v2.0/floatingips/{topo['fip']['id']}", status=204)
    ovn_api.ok("DELETE", f"/v2.0/ports/{topo['port']['id']}", status=204)
    ovn_api.ok(
        "PUT", f"/v2.0/routers/{topo['router']['id']}/remove_router_interface", json={"subnet_id": topo["sub"]["id"]}
    )
    ovn_api.ok("DELETE", f"/v2.0/routers/{topo['router']['id']}", status=204)
    ovn_api.ok("DELETE", f"/v2.0/networks/{topo['net']['id']}", status=204)
    ovn_api.ok("DELETE", f"/v2.0/networks/{topo['ext']['id']}", "admin", status=204)
    snap = _snapshot(nb_server)
    assert snap["switches"] == [] and snap["routers"] == [] and snap["nat"] == [] and snap["dhcp"] == []
    assert snap["ports"] == [] and snap["chassis"] == []


def test_service_starts_before_the_nb(make_api: Callable[..., Api], nb_server: NbServer) -> None:
    nb_server.stop()
    api = make_api(backend="ovn", ovn_nb_connection=nb_server.remote, ovsdb_timeout=5)
    assert not api.service.backend.is_connected()
    net, _ = api.network_with_subnet()
    nb_server.start()
    wait_for(lambda: f"neutron-{net['id']}" in nb_server.find("Logical_Switch"), 30, "the switch once the NB is up")
    wait_for(lambda: len(nb_server.find("DHCP_Options", column="_uuid")) == 1, 30, "the DHCP options")
