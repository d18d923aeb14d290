"""Live migration through the API with in-process fake hosts: the rules, allocations, migrations, ports.

The fake drivers of one process hand a guest to each other (``FakeDriver.live_migrate``), so the whole
conversation runs: API -> conductor (claim) -> source agent -> destination's ``pre_live_migration`` ->
the move -> conductor (rebind, move, free) -> destination's post and the source's cleanup.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratus.compute import messages
from stratus.compute.virt.fake import FakeDriver
from tests.functional.compute import test_moves, test_networking
from tests.functional.compute.conftest import wait_for
from tests.functional.compute.test_moves import HOSTS, Cloud, expect_usage
from tests.functional.compute.test_networking import FakeNetworkAgent, NetApi, _service_up

LIVE = "os-migrateLive"
V225 = {"headers": {"OpenStack-API-Version": "compute 2.25"}}


@pytest.fixture(name="cloud")
def three_fake_hosts(tmp_path: Path) -> Iterator[Cloud]:
    """``test_moves``' cloud: three fake hosts."""
    yield from test_moves.cloud.__wrapped__(tmp_path)  # type: ignore[attr-defined]


@pytest.fixture(name="napi")
def real_network_service(tmp_path: Path) -> Iterator[NetApi]:
    """``test_networking``'s: one fake host with a real network service and a fake network agent."""
    yield from test_networking.napi.__wrapped__(tmp_path)  # type: ignore[attr-defined]


def live(cloud: Cloud, sid: str, body: dict[str, Any], version: str = "2.25", as_: str = "admin") -> Any:
    return cloud.api.action(sid, {LIVE: body}, as_, headers={"OpenStack-API-Version": f"compute {version}"})


def test_live_migration_moves_the_running_guest_and_its_allocations(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    source = cloud.host_of(sid)
    dest = next(h for h in HOSTS if h != source)
    console = cloud.driver(source).get_console_output(sid)
    resp = live(cloud, sid, {"host": dest, "block_migration": "auto"})
    assert resp.status_code == 202, resp.text
    wait_for(lambda: cloud.host_of(sid) == dest and api.server(sid)["status"] == "ACTIVE", "the move to finish")
    expect_usage(cloud, {dest: 1})  # the source's share is freed at once (no confirm for a live migration)
    assert sid not in {g.uuid for g in cloud.driver(source).list_instances()}
    assert cloud.driver(dest).get_power_state(sid) == messages.RUNNING
    assert cloud.driver(dest).get_console_output(sid) == console  # the same guest, not a new boot
    (mig,) = cloud.migrations(sid)
    assert (mig["migration_type"], mig["status"]) == ("live-migration", "completed")
    assert (mig["source_compute"], mig["dest_compute"]) == (source, dest)
    actions = api.ok("GET", f"/servers/{sid}/os-instance-actions", "admin")["instanceActions"]
    assert "live-migration" in {a["action"] for a in actions}


def test_live_migration_without_a_host_lets_the_scheduler_choose_and_keeps_a_paused_guest_paused(
    cloud: Cloud,
) -> None:
    api = cloud.api
    sid = api.active()["id"]
    source = cloud.host_of(sid)
    assert api.action(sid, {"pause": None}).status_code == 202
    api.wait_status(sid, "PAUSED")
    resp = live(cloud, sid, {"host": None, "block_migration": True, "disk_over_commit": False}, version="2.1")
    assert resp.status_code == 202, resp.text
    wait_for(lambda: cloud.host_of(sid) != source and api.server(sid)["status"] == "PAUSED", "the move")
    assert cloud.driver(cloud.host_of(sid)).get_power_state(sid) == messages.PAUSED
    assert api.server(sid, "admin")["OS-EXT-STS:power_state"] == messages.PAUSED


def test_failed_live_migration_leaves_the_guest_on_the_source_with_a_fault(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    source = cloud.host_of(sid)
    dest = next(h for h in HOSTS if h != source)
    cloud.driver(source).fail_live_migration = "the memory copy did not converge"
    assert live(cloud, sid, {"host": dest, "block_migration": "auto"}).status_code == 202
    wait_for(lambda: cloud.migrations(sid) and cloud.migrations(sid)[0]["status"] == "error", "the failure")
    server = api.wait_status(sid, "ACTIVE")
    assert cloud.host_of(sid) == source
    assert server.get("OS-EXT-STS:task_state") is None
    actions = api.ok("GET", f"/servers/{sid}/os-instance-actions", "admin")["instanceActions"]
    request_id = next(a["request_id"] for a in actions if a["action"] == "live-migration")
    detail = api.ok("GET", f"/servers/{sid}/os-instance-actions/{request_id}", "admin", version="2.51")
    events = {e["event"]: e["result"] for e in detail["instanceAction"]["events"]}
    assert events["compute_live_migration"] == "Error"  # the fault itself shows only in ERROR, as Nova's
    expect_usage(cloud, {source: 1})  # the destination's claim is gone, the source's is the instance's again
    assert cloud.driver(source).get_power_state(sid) == messages.RUNNING
    assert sid not in {g.uuid for g in cloud.driver(dest).list_instances()}
    assert sid not in cloud.driver(dest)._incoming  # the destination dropped what it prepared
    # the source works again: a second try succeeds
    cloud.driver(source).fail_live_migration = None
    assert live(cloud, sid, {"host": dest, "block_migration": "auto"}).status_code == 202
    wait_for(lambda: cloud.host_of(sid) == dest and api.server(sid)["status"] == "ACTIVE", "the second move")
    expect_usage(cloud, {dest: 1})


def test_live_migration_api_rules(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    source = cloud.host_of(sid)
    body = {"host": None, "block_migration": "auto"}
    assert live(cloud, sid, body, as_="member-a").status_code == 403  # admin only
    bad = [
        ({"host": source, "block_migration": "auto"}, "2.25", "current host"),
        ({"host": "no-such-host", "block_migration": "auto"}, "2.25", "could not be found"),
        ({"host": None, "block_migration": False}, "2.25", "shared storage"),
        ({"host": None}, "2.25", "block_migration"),
        ({"block_migration": "auto"}, "2.25", "host"),
        # 'auto' only from 2.25
        ({"host": None, "block_migration": "auto", "disk_over_commit": False}, "2.24", "block_migration"),
        ({"host": None, "block_migration": True}, "2.1", "disk_over_commit"),
        ({"host": None, "block_migration": "auto", "disk_over_commit": False}, "2.25", "disk_over_commit"),
        ({"host": None, "block_migration": "auto", "force": True}, "2.30", "non-provided destination"),
        ({"host": None, "block_migration": "auto", "force": False}, "2.68", "force"),
        ({"host": "", "block_migration": "auto"}, "2.25", "host"),
    ]
    for args, version, words in bad:
        resp = live(cloud, sid, args, version=version)
        assert resp.status_code == 400, (args, version, resp.text)
        assert words in resp.json()["badRequest"]["message"], (args, resp.text)
    assert cloud.migrations(sid) == []  # nothing was recorded for a refused request
    assert api.server(sid)["status"] == "ACTIVE"
    # wrong state: 409
    assert api.action(sid, {"os-stop": None}).status_code == 202
    api.wait_status(sid, "SHUTOFF")
    resp = live(cloud, sid, body)
    assert resp.status_code == 409 and "vm_state stopped" in resp.text


def test_live_migration_with_no_host_that_fits_is_refused_and_nothing_changes(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    source = cloud.host_of(sid)
    for host in HOSTS:
        if host != source:
            svc = next(
                s for s in api.ok("GET", "/os-services", "admin", version="2.53")["services"] if s["host"] == host
            )
            api.ok("PUT", f"/os-services/{svc['id']}", "admin", version="2.53", json={"status": "disabled"})
    resp = live(cloud, sid, {"host": None, "block_migration": "auto"})
    assert resp.status_code == 400 and "No valid host" in resp.text, resp.text
    server = api.server(sid, "admin")
    assert server["status"] == "ACTIVE" and server["OS-EXT-STS:task_state"] is None
    assert cloud.host_of(sid) == source
    expect_usage(cloud, {source: 1})
    (mig,) = cloud.migrations(sid)
    assert (mig["migration_type"], mig["status"]) == ("live-migration", "error")


def test_live_migration_moves_the_port_binding_and_the_vifs(napi: NetApi) -> None:
    """The destination plugs before the move (the port stays bound to the source), the conductor rebinds the
    port once the guest runs there, and the source unplugs its tap."""
    napi.plug_vifs()
    net = napi.network_with_subnet()
    server = napi.active(networks=[{"uuid": net}])
    sid = server["id"]
    (port,) = napi.ports_of(sid)
    source = napi.server(sid, "admin")["OS-EXT-SRV-ATTR:host"]
    tap = {"port_id": port["id"], "devname": f"tap{port['id'][:11]}"}
    other = "fake-host-1"
    other_agent = FakeNetworkAgent(napi.network)
    other_server = napi.workers.bus.serve(f"network-agent.{other}", other_agent, workers=2)
    try:
        driver = FakeDriver()
        driver.plugs_vifs = True  # type: ignore[misc]
        napi.workers.add_agent(other, driver)
        wait_for(lambda: _service_up(napi.service, other), f"the heartbeat of {other}")
        resp = napi.action(sid, {LIVE: {"host": other, "block_migration": "auto"}}, "admin", **V225)
        assert resp.status_code == 202, resp.text
        wait_for(lambda: napi.server(sid, "admin")["OS-EXT-SRV-ATTR:host"] == other, "the move")
        napi.wait_status(sid, "ACTIVE")
        assert napi.ports_of(sid)[0]["binding:host_id"] == other
        wait_for(lambda: len(other_agent.plugged) == 2, "the destination to plug again once the port is bound there")
        assert [p["port_id"] for p in other_agent.plugged] == [port["id"], port["id"]]  # before the move, after
        wait_for(lambda: napi.agent.unplugged == [tap], f"{source} to unplug the VIF")
        # (the fake data plane has no chassis: the source's unplug marks the port DOWN there, which OVN would not)
        assert other_agent.unplugged == []
        assert napi.server(sid)["addresses"] == server["addresses"]  # same port, same address
        assert sid in {g.uuid for g in driver.list_instances()}
    finally:
        other_server.stop()
