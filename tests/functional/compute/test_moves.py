"""Host health, cold migration and evacuation through the API, with three in-process fake hosts.

A host "fails" when its agent is stopped: its heartbeats stop, and after ``service_down_time``
(3 s here) the API shows it down. It "comes back" when an agent starts again on the same fake
driver (whose guests survived, as a rebooted hypervisor's disks would).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stratus.compute import messages
from stratus.compute.service import ComputeService
from stratus.compute.virt.fake import FakeDriver
from stratus.compute.workers import ComputeWorkers
from tests.functional.compute.conftest import Api, compute_stack, make_config, wait_for

HOSTS = ("fake-host-0", "fake-host-1", "fake-host-2")
DOWN_TIME = 3


class Cloud:
    """The API plus what these tests do to hosts."""

    def __init__(self, api: Api, workers: ComputeWorkers, service: ComputeService):
        self.api, self.workers, self.service = api, workers, service
        self.stopped: dict[str, FakeDriver] = {}

    def driver(self, host: str) -> FakeDriver:
        driver = self.workers.agents[host].driver if host in self.workers.agents else self.stopped[host]
        assert isinstance(driver, FakeDriver)
        return driver

    def host_of(self, server_id: str) -> str:
        return str(self.api.server(server_id, "admin")["OS-EXT-SRV-ATTR:host"])

    def service_state(self, host: str) -> str:
        services = self.api.ok("GET", f"/os-services?host={host}", "admin")["services"]
        return str(services[0]["state"])

    def fail(self, host: str) -> None:
        """Stop the host's agent and wait until the API shows it down."""
        self.stopped[host] = self.driver(host)
        self.workers.stop_agent(host)
        wait_for(lambda: self.service_state(host) == "down", f"{host} to be down", timeout=DOWN_TIME + 15)

    def revive(self, host: str) -> None:
        self.workers.add_agent(host, self.stopped.pop(host))
        wait_for(lambda: self.service_state(host) == "up", f"{host} to be up")

    def usage(self) -> dict[str, dict[str, int]]:
        """Used resources per host, as the hypervisors API shows them."""
        hyps = self.api.ok("GET", "/os-hypervisors/detail", "admin")["hypervisors"]
        return {h["service"]["host"]: {"ram": h["memory_mb_used"], "vcpus": h["vcpus_used"]} for h in hyps}

    def migrations(self, server_id: str, version: str = "2.59") -> list[dict[str, Any]]:
        path = f"/os-migrations?instance_uuid={server_id}"
        return self.api.ok("GET", path, "admin", version=version)["migrations"]  # type: ignore[no-any-return]


@pytest.fixture
def cloud(tmp_path: Path) -> Iterator[Cloud]:
    config = make_config(tmp_path, service_down_time=DOWN_TIME).with_overrides(
        compute_agent={"fake_hosts": 3, "heartbeat_interval": 0.5}
    )
    with compute_stack(config, HOSTS) as (service, workers, api):
        api.image_id = api.make_image(name="cirros")
        api.flavor_id = api.make_flavor("m1.tiny")
        yield Cloud(api, workers, service)


def expect_usage(cloud: Cloud, per_host: dict[str, int]) -> None:
    """RAM in use on each host equals the m1.tiny servers (512 MB each) said to run there."""
    wanted = {h: {"ram": 512 * per_host.get(h, 0), "vcpus": per_host.get(h, 0)} for h in HOSTS}
    wait_for(lambda: cloud.usage() == wanted, f"usage {wanted} (now {cloud.usage()})")


# host health


def test_host_that_stops_heartbeating_is_down_and_comes_back_reconciled(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    host = cloud.host_of(sid)
    assert api.server(sid, "admin", version="2.16")["host_status"] == "UP"
    cloud.fail(host)
    hyp = {h["hypervisor_hostname"]: h for h in api.ok("GET", "/os-hypervisors", "admin")["hypervisors"]}
    assert hyp[host]["state"] == "down" and hyp[host]["status"] == "enabled"
    shown = api.server(sid, "admin", version="2.16")
    assert shown["status"] == "ACTIVE" and shown["host_status"] == "UNKNOWN"  # Nova: no heartbeat -> UNKNOWN
    assert "host_status" not in api.server(sid, version="2.16")  # admin-only (servers:show:host_status)
    # the scheduler never picks it
    others = [api.active(name=f"o{i}")["id"] for i in range(4)]
    assert host not in {cloud.host_of(o) for o in others}
    # the guest stopped while nobody watched: the returning agent's reconcile says so
    cloud.driver(host).simulate_power_change(sid, messages.SHUTDOWN)
    cloud.revive(host)
    assert api.wait_status(sid, "SHUTOFF")["OS-EXT-STS:power_state"] == messages.SHUTDOWN
    assert api.server(sid, "admin", version="2.16")["host_status"] == "UP"


def test_host_status_maintenance_and_forced_down(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    host = cloud.host_of(sid)
    svc = next(s for s in api.ok("GET", "/os-services", "admin", version="2.53")["services"] if s["host"] == host)
    api.ok("PUT", f"/os-services/{svc['id']}", "admin", version="2.53", json={"status": "disabled"})
    assert api.server(sid, "admin", version="2.16")["host_status"] == "MAINTENANCE"
    api.ok("PUT", f"/os-services/{svc['id']}", "admin", version="2.53", json={"status": "enabled"})
    api.ok("PUT", f"/os-services/{svc['id']}", "admin", version="2.53", json={"forced_down": True})
    assert api.server(sid, "admin", version="2.16")["host_status"] == "DOWN"
    assert api.server(sid, "admin", version="2.15").get("host_status") is None
    assert (
        api("PUT", f"/os-services/{svc['id']}", "member-a", version="2.53", json={"status": "disabled"}).status_code
        == 403
    )


# cold migration


def test_migrate_confirm_moves_the_server_and_its_allocations(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    source = cloud.host_of(sid)
    expect_usage(cloud, {source: 1})
    assert api.action(sid, {"migrate": None}, "admin").status_code == 202
    server = api.wait_status(sid, "VERIFY_RESIZE")
    dest = cloud.host_of(sid)
    assert dest != source and server["flavor"]["id"] == api.flavor_id
    expect_usage(cloud, {source: 1, dest: 1})  # both held until confirm, as Nova does
    assert cloud.driver(source).get_power_state(sid) == messages.SHUTDOWN  # the source copy is kept, off
    (mig,) = cloud.migrations(sid)
    assert (mig["migration_type"], mig["status"]) == ("migration", "finished")
    assert (mig["source_compute"], mig["dest_compute"], mig["instance_uuid"]) == (source, dest, sid)
    assert api.action(sid, {"confirmResize": None}, "admin").status_code == 204
    api.wait_status(sid, "ACTIVE")
    expect_usage(cloud, {dest: 1})
    wait_for(lambda: sid not in {g.uuid for g in cloud.driver(source).list_instances()}, "the source copy to go")
    assert cloud.driver(dest).get_power_state(sid) == messages.RUNNING
    assert cloud.migrations(sid)[0]["status"] == "confirmed"
    actions = [a["action"] for a in api.ok("GET", f"/servers/{sid}/os-instance-actions", "admin")["instanceActions"]]
    assert "migrate" in actions and "confirmResize" in actions


def test_migrate_to_a_host_then_revert(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    source = cloud.host_of(sid)
    target = next(h for h in HOSTS if h != source)
    resp = api.action(sid, {"migrate": {"host": target}}, "admin", headers={"OpenStack-API-Version": "compute 2.56"})
    assert resp.status_code == 202, resp.text
    api.wait_status(sid, "VERIFY_RESIZE")
    assert cloud.host_of(sid) == target
    assert api.action(sid, {"revertResize": None}, "admin").status_code == 202
    server = api.wait_status(sid, "ACTIVE")
    assert cloud.host_of(sid) == source and server["OS-EXT-STS:power_state"] == messages.RUNNING
    assert cloud.driver(source).get_power_state(sid) == messages.RUNNING  # started again
    wait_for(lambda: sid not in {g.uuid for g in cloud.driver(target).list_instances()}, "the target copy to go")
    expect_usage(cloud, {source: 1})
    assert cloud.migrations(sid)[0]["status"] == "reverted"


def test_stopped_server_migrates_stopped(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    assert api.action(sid, {"os-stop": None}).status_code == 202
    api.wait_status(sid, "SHUTOFF")
    assert api.action(sid, {"migrate": None}, "admin").status_code == 202
    api.wait_status(sid, "VERIFY_RESIZE")
    assert api.action(sid, {"confirmResize": None}).status_code == 204
    api.wait_status(sid, "SHUTOFF")
    assert cloud.driver(cloud.host_of(sid)).get_power_state(sid) == messages.SHUTDOWN


def test_migrate_policy_and_bad_input(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    source = cloud.host_of(sid)
    v256 = {"OpenStack-API-Version": "compute 2.56"}
    assert api.action(sid, {"migrate": None}, "member-a").status_code == 403
    same = api.action(sid, {"migrate": {"host": source}}, "admin", headers=v256)
    assert same.status_code == 400
    assert same.json()["badRequest"]["message"] == "Cannot migrate to the host where the server exists."
    unknown = api.action(sid, {"migrate": {"host": "nowhere"}}, "admin", headers=v256)
    assert unknown.status_code == 400
    assert unknown.json()["badRequest"]["message"] == "Compute host nowhere could not be found."
    assert api.action(sid, {"migrate": {"bogus": 1}}, "admin", headers=v256).status_code == 400
    assert api.action(sid, {"pause": None}).status_code == 202
    api.wait_status(sid, "PAUSED")
    assert api.action(sid, {"migrate": None}, "admin").status_code == 409
    assert api.action(sid, {"unpause": None}).status_code == 202
    api.wait_status(sid, "ACTIVE")
    # every other host disabled: no valid host, answered at once, the server as it was
    for host in HOSTS:
        if host != source:
            api.ok("PUT", "/os-services/disable", "admin", json={"host": host, "binary": "nova-compute"})
    resp = api.action(sid, {"migrate": None}, "admin")
    assert resp.status_code == 400 and resp.json()["badRequest"]["message"].startswith("No valid host was found.")
    server = api.server(sid, "admin")
    assert (server["status"], server["OS-EXT-STS:task_state"], cloud.host_of(sid)) == ("ACTIVE", None, source)
    assert cloud.migrations(sid)[0]["status"] == "error"
    expect_usage(cloud, {source: 1})


def test_os_migrations_list_policy_filters_and_versions(cloud: Cloud) -> None:
    api = cloud.api
    a, b = api.active(name="a")["id"], api.active(name="b")["id"]
    for sid in (a, b):
        assert api.action(sid, {"migrate": None}, "admin").status_code == 202
        api.wait_status(sid, "VERIFY_RESIZE")
    assert api("GET", "/os-migrations", "member-a").status_code == 403
    old = api.ok("GET", "/os-migrations", "admin")["migrations"]
    assert len(old) == 2 and "migration_type" not in old[0] and "uuid" not in old[0]
    assert {m["instance_uuid"] for m in old} == {a, b}
    assert [m["instance_uuid"] for m in cloud.migrations(a)] == [a]
    typed = api.ok("GET", "/os-migrations?migration_type=evacuation", "admin", version="2.23")["migrations"]
    assert typed == []
    page = api.ok("GET", "/os-migrations?limit=1", "admin", version="2.59")
    assert page["migrations"][0]["instance_uuid"] == b and "migrations_links" in page  # newest first
    rest = api.ok("GET", f"/os-migrations?limit=1&marker={page['migrations'][0]['uuid']}", "admin", version="2.59")
    assert rest["migrations"][0]["instance_uuid"] == a
    assert api("GET", "/os-migrations?marker=nope", "admin", version="2.59").status_code == 400
    by_status = api.ok("GET", "/os-migrations?status=finished", "admin")["migrations"]
    assert len(by_status) == 2


# evacuation


def test_evacuate_refused_while_the_host_is_up_and_bad_input(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    host = cloud.host_of(sid)
    assert api.action(sid, {"evacuate": {}}, "member-a", version="2.14").status_code == 403
    resp = api.action(sid, {"evacuate": {}}, "admin", headers={"OpenStack-API-Version": "compute 2.14"})
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["message"] == f"Compute service of {host} is still in use."
    v229 = {"OpenStack-API-Version": "compute 2.29"}
    resp = api.action(sid, {"evacuate": {"host": "nowhere"}}, "admin", headers=v229)
    assert resp.status_code == 404 and resp.json()["itemNotFound"]["message"] == "Compute host nowhere not found."
    resp = api.action(sid, {"evacuate": {"host": host}}, "admin", headers=v229)
    assert resp.status_code == 400 and resp.json()["badRequest"]["message"] == "The target host can't be the same one."
    assert api.action(sid, {"evacuate": {"force": True}}, "admin", headers=v229).status_code == 400
    assert api.action(sid, {"evacuate": {"bogus": 1}}, "admin", headers=v229).status_code == 400
    assert api.action(sid, {"evacuate": {}}, "admin").status_code == 400  # before 2.14 onSharedStorage is required
    assert api.server(sid)["status"] == "ACTIVE" and cloud.migrations(sid) == []


def test_evacuate_rebuilds_elsewhere_and_the_old_host_drops_its_copy(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    keep = api.active(name="stays")["id"]
    source = cloud.host_of(sid)
    expect_usage(cloud, {source: 1, cloud.host_of(keep): 1} if cloud.host_of(keep) != source else {source: 2})
    cloud.fail(source)
    target = next(h for h in HOSTS if h != source)
    resp = api.action(sid, {"evacuate": {"host": target}}, "admin", headers={"OpenStack-API-Version": "compute 2.29"})
    assert resp.status_code == 200 and not resp.content, resp.text
    server = api.wait_status(sid, "ACTIVE")
    assert cloud.host_of(sid) == target and server["OS-EXT-STS:power_state"] == messages.RUNNING
    assert cloud.driver(target).get_power_state(sid) == messages.RUNNING
    (mig,) = cloud.migrations(sid)
    assert (mig["migration_type"], mig["status"], mig["source_compute"], mig["dest_compute"]) == (
        "evacuation",
        "done",
        source,
        target,
    )
    counts = dict.fromkeys(HOSTS, 0)
    for s in (sid, keep):
        counts[cloud.host_of(s)] += 1
    expect_usage(cloud, counts)  # the failed host's allocation is freed: usage equals the servers that exist
    assert sid in {g.uuid for g in cloud.driver(source).list_instances()}  # still there while it is down
    cloud.revive(source)
    assert sid not in {g.uuid for g in cloud.driver(source).list_instances()}  # destroyed, not restarted
    wait_for(lambda: cloud.migrations(sid)[0]["status"] == "completed", "the evacuation to be completed")
    assert api.server(sid)["status"] == "ACTIVE" and cloud.host_of(sid) == target
    actions = [a["action"] for a in api.ok("GET", f"/servers/{sid}/os-instance-actions", "admin")["instanceActions"]]
    assert "evacuate" in actions


def test_evacuate_before_2_14_returns_the_password_and_keeps_a_stopped_server_stopped(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    assert api.action(sid, {"os-stop": None}).status_code == 202
    api.wait_status(sid, "SHUTOFF")
    source = cloud.host_of(sid)
    cloud.fail(source)
    resp = api.action(sid, {"evacuate": {"onSharedStorage": False, "adminPass": "s3cret"}}, "admin")
    assert resp.status_code == 200 and resp.json() == {"adminPass": "s3cret"}
    api.wait_status(sid, "SHUTOFF")
    dest = cloud.host_of(sid)
    assert dest != source and cloud.driver(dest).get_power_state(sid) == messages.SHUTDOWN


def test_evacuate_without_room_ends_in_error_with_a_fault(cloud: Cloud) -> None:
    api = cloud.api
    sid = api.active()["id"]
    source = cloud.host_of(sid)
    for host in HOSTS:
        if host != source:
            api.ok("PUT", "/os-services/disable", "admin", json={"host": host, "binary": "nova-compute"})
    cloud.fail(source)
    assert (
        api.action(sid, {"evacuate": {}}, "admin", headers={"OpenStack-API-Version": "compute 2.14"}).status_code == 200
    )
    server = api.wait_status(sid, "ERROR", "admin")
    assert server["fault"]["message"].startswith("Evacuation failed: No valid host")
    assert cloud.host_of(sid) == source and cloud.migrations(sid)[0]["status"] == "error"
    expect_usage(cloud, {source: 1})
