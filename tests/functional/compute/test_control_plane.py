"""The conductor, scheduler and fake-host agents together, on a real database and bus."""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid as uuidlib
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from stratus.compute import messages, models
from stratus.compute.messages import ImageSpec, InstanceSpec, RequestSpec
from stratus.core.db import DatabaseUnavailable
from stratus.image import formats
from tests.functional.compute.control_plane import PROJECT, USER, ControlPlane, flavor

SMALL = flavor(vcpus=1, memory_mb=512, root_gb=1)
CTX = {"request_id": "req-test", "auth_token": "t"}


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[ControlPlane]:
    cp = ControlPlane(tmp_path)
    try:
        for i in range(3):
            cp.add_host(f"cp-{i}", vcpus=8, memory_mb=4096, disk_gb=100)
        yield cp
    finally:
        cp.close()


def one(plane: ControlPlane, uuid: str) -> models.Instance:
    return plane.instances([uuid])[uuid]


def set_service(plane: ControlPlane, host: str, **values: object) -> None:
    with plane.db.session() as s:
        s.execute(sa.update(models.ComputeService).where(models.ComputeService.host == host).values(**values))


def spec_of(inst: models.Instance, fl: messages.FlavorSpec | None = None) -> InstanceSpec:
    return InstanceSpec(
        uuid=inst.uuid,
        name=inst.display_name,
        hostname=inst.hostname,
        project_id=PROJECT,
        user_id=USER,
        flavor=fl or messages.FlavorSpec.from_dict(inst.flavor),
    )


def test_boot_goes_active_with_allocations(plane: ControlPlane) -> None:
    [uuid] = plane.boot(1, SMALL)
    inst = plane.wait_settled([uuid])[uuid]
    assert (inst.vm_state, inst.task_state, inst.power_state) == ("active", None, messages.RUNNING)
    assert inst.launched_at is not None and inst.host in {"cp-0", "cp-1", "cp-2"}
    used, _ = plane.usage_by_host()[inst.host]
    assert used == {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}
    assert plane.driver(inst.host).get_power_state(uuid) == messages.RUNNING


def test_spread_by_free_ram(plane: ControlPlane) -> None:
    uuids = plane.boot(3, SMALL)
    rows = plane.wait_settled(uuids)
    assert sorted(r.host or "" for r in rows.values()) == ["cp-0", "cp-1", "cp-2"]


def test_reschedule_after_build_failure_ends_active_on_alternate(plane: ControlPlane) -> None:
    plane.driver("cp-0").fail_all_spawns = "disk on fire"
    plane.driver("cp-1").fail_all_spawns = "no more loop devices"
    # cp-0 and cp-1 have more free RAM, so they are tried first
    plane.add_host("cp-3", vcpus=8, memory_mb=1024, disk_gb=100)
    set_service(plane, "cp-2", disabled=True)
    [uuid] = plane.boot(1, SMALL)
    inst = plane.wait_settled([uuid])[uuid]
    assert (inst.vm_state, inst.host) == ("active", "cp-3")
    assert {h: u for h, (u, _) in plane.usage_by_host().items() if u} == {
        "cp-3": {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}
    }
    assert plane.driver("cp-0").list_instances() == [] and plane.driver("cp-1").list_instances() == []


def test_reschedule_gives_up_after_max_attempts_naming_each_host(plane: ControlPlane) -> None:
    for i, reason in enumerate(["disk on fire", "qemu crashed", "out of tap devices"]):
        plane.driver(f"cp-{i}").fail_all_spawns = reason
    [uuid] = plane.boot(1, SMALL)
    inst = plane.wait_settled([uuid])[uuid]
    assert inst.vm_state == "error" and inst.host is None
    fault = plane.faults(uuid)[-1]
    assert fault.message.startswith("Build failed on 3 hosts: ")
    for reason in ["disk on fire", "qemu crashed", "out of tap devices"]:
        assert reason in fault.message
    assert all(not used for used, _ in plane.usage_by_host().values())


def test_host_without_heartbeat_is_not_chosen(plane: ControlPlane) -> None:
    plane.workers.stop_agent("cp-0")  # it stops heartbeating...
    stale = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=120)
    set_service(plane, "cp-0", last_seen_up=stale)  # ...and time passes beyond service_down_time
    uuids = plane.boot(4, SMALL)
    rows = plane.wait_settled(uuids)
    assert {r.host for r in rows.values()} == {"cp-1", "cp-2"}


def test_disabled_host_is_not_chosen(plane: ControlPlane) -> None:
    set_service(plane, "cp-1", disabled=True, disabled_reason="maintenance")
    uuids = plane.boot(4, SMALL)
    rows = plane.wait_settled(uuids)
    assert {r.host for r in rows.values()} == {"cp-0", "cp-2"}


def test_anti_affinity_group_spreads_and_refuses_a_fourth(plane: ControlPlane) -> None:
    group = plane.create_group("anti-affinity")
    uuids = plane.boot(4, SMALL, server_group_uuid=group)
    rows = plane.wait_settled(uuids)
    active = [r for r in rows.values() if r.vm_state == "active"]
    assert sorted(r.host or "" for r in active) == ["cp-0", "cp-1", "cp-2"]
    [failed] = [r for r in rows.values() if r.vm_state == "error"]
    assert plane.faults(failed.uuid)[-1].message == (
        f"No valid host: 3 hosts: 3 already hosts a member of anti-affinity group {group}"
    )


def test_anti_affinity_holds_for_separate_concurrent_requests(plane: ControlPlane) -> None:
    group = plane.create_group("anti-affinity")
    uuids = plane.create_instances(6, SMALL, group=group)
    for u in uuids:
        plane.build([u], SMALL, server_group_uuid=group)
    rows = plane.wait_settled(uuids)
    hosts = [r.host for r in rows.values() if r.vm_state == "active"]
    assert sorted(hosts) == ["cp-0", "cp-1", "cp-2"]


def test_affinity_group_stacks(plane: ControlPlane) -> None:
    group = plane.create_group("affinity")
    uuids = plane.boot(3, SMALL, server_group_uuid=group)
    rows = plane.wait_settled(uuids)
    assert len({r.host for r in rows.values()}) == 1 and all(r.vm_state == "active" for r in rows.values())


def test_soft_anti_affinity_prefers_empty_hosts(plane: ControlPlane) -> None:
    group = plane.create_group("soft-anti-affinity")
    plane.wait_settled(plane.boot(2, flavor(memory_mb=256, name="tiny")))  # skew free RAM a little
    uuids = plane.boot(3, SMALL, server_group_uuid=group)
    rows = plane.wait_settled(uuids)
    assert len({r.host for r in rows.values()}) == 3


def test_no_valid_host_says_why_per_filter(plane: ControlPlane) -> None:
    set_service(plane, "cp-0", disabled=True)
    big = flavor(vcpus=1, memory_mb=8192, root_gb=1, name="big")
    [uuid] = plane.boot(1, big)
    inst = plane.wait_settled([uuid])[uuid]
    assert inst.vm_state == "error"
    assert plane.faults(uuid)[-1].message == "No valid host: 3 hosts: 2 lacked RAM (need 8192 MB), 1 disabled"


def test_a_scheduling_failure_ends_every_instance_of_the_request_in_error(
    plane: ControlPlane, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database staying away longer than the conductor's retries: no instance is left in BUILD."""
    conductor = plane.workers.conductor
    assert conductor is not None

    def database_gone(*args: object, **kwargs: object) -> None:
        raise DatabaseUnavailable("The database is unavailable")

    monkeypatch.setattr(conductor._scheduler, "select_destinations", database_gone)
    uuids = plane.boot(2, SMALL)
    rows = plane.wait_settled(uuids)
    assert [(r.vm_state, r.task_state, r.host) for r in rows.values()] == [("error", None, None)] * 2
    for uuid in uuids:
        assert plane.faults(uuid)[-1].message == "Build could not be scheduled: The database is unavailable"


def test_availability_zone_requested_host_and_image_properties(plane: ControlPlane) -> None:
    [a] = plane.boot(1, SMALL, requested_host="cp-2")
    assert plane.wait_settled([a])[a].host == "cp-2"
    [b] = plane.boot(1, SMALL, availability_zone="elsewhere")
    assert plane.wait_settled([b])[b].vm_state == "error"
    assert plane.faults(b)[-1].message == "No valid host: 3 hosts: 3 not in availability zone elsewhere"
    arm = ImageSpec(id="img-arm", properties={"hw_architecture": "aarch64"})
    [c] = plane.boot(1, SMALL, image=arm)
    assert plane.wait_settled([c])[c].vm_state == "error"
    assert plane.faults(c)[-1].message == "No valid host: 3 hosts: 3 not of architecture aarch64"


def test_power_actions_round_trip(plane: ControlPlane) -> None:
    [uuid] = plane.boot(1, SMALL)
    host = plane.wait_settled([uuid])[uuid].host
    assert host is not None
    steps = [
        ("stop", {}, "stopped", messages.SHUTDOWN),
        ("start", {}, "active", messages.RUNNING),
        ("pause", {}, "paused", messages.PAUSED),
        ("unpause", {}, "active", messages.RUNNING),
        ("suspend", {}, "suspended", messages.SUSPENDED),
        ("resume", {}, "active", messages.RUNNING),
        ("reboot", {"hard": True}, "active", messages.RUNNING),
    ]
    for action, params, vm_state, power in steps:
        with plane.db.session() as s:
            s.get(models.Instance, uuid).task_state = f"{action}-ing"  # type: ignore[union-attr]
        plane.agents.power_action(CTX, host, uuid, action, **params)
        inst = plane.wait_for([uuid], lambda i: i.task_state is None)[uuid]
        assert (inst.vm_state, inst.power_state) == (vm_state, power), action
        assert plane.driver(host).get_power_state(uuid) == power


def test_failed_power_action_records_fault_and_clears_task(plane: ControlPlane) -> None:
    [uuid] = plane.boot(1, SMALL)
    host = plane.wait_settled([uuid])[uuid].host
    assert host is not None
    with plane.db.session() as s:
        s.get(models.Instance, uuid).task_state = "unpausing"  # type: ignore[union-attr]
    plane.agents.power_action(CTX, host, uuid, "unpause")  # not paused: the driver refuses
    inst = plane.wait_for([uuid], lambda i: i.task_state is None)[uuid]
    assert (inst.vm_state, inst.power_state) == ("active", messages.RUNNING)
    assert plane.faults(uuid)[-1].message.startswith("unpause failed")


def test_terminate_frees_allocations(plane: ControlPlane) -> None:
    [uuid] = plane.boot(1, SMALL)
    host = plane.wait_settled([uuid])[uuid].host
    assert host is not None
    plane.agents.terminate_instance(CTX, host, uuid)
    inst = plane.wait_for([uuid], lambda i: i.deleted)[uuid]
    assert inst.vm_state == "deleted" and inst.terminated_at is not None
    assert plane.usage_by_host()[host][0] == {}
    assert plane.driver(host).list_instances() == []


def test_resize_confirm_and_revert(plane: ControlPlane) -> None:
    uuids = plane.boot(2, SMALL)
    rows = plane.wait_settled(uuids)
    bigger = flavor(vcpus=2, memory_mb=1024, root_gb=2, name="m1.bigger")
    request = RequestSpec(instance_uuids=uuids[:1], project_id=PROJECT, user_id=USER, flavor=bigger)
    for uuid, finish in zip(uuids, ["confirm", "revert"], strict=True):
        source = rows[uuid].host
        with plane.db.session() as s:
            inst = s.get(models.Instance, uuid)
            assert inst is not None
            inst.task_state, inst.new_flavor = "resize_prep", bigger.to_dict()
        plane.conductor.resize_instance(
            CTX, uuid, RequestSpec.from_dict({**request.to_dict(), "instance_uuids": [uuid]})
        )
        inst = plane.wait_for([uuid], lambda i: i.vm_state == "resized")[uuid]
        dest = inst.host
        assert inst.task_state is None and inst.flavor["memory_mb"] == 1024 and inst.old_flavor is not None
        usage = plane.usage_by_host()
        assert usage[dest][0]["MEMORY_MB"] >= 1024  # new flavor held on the destination...
        assert usage[source][0]["MEMORY_MB"] >= 512  # ...and the old one on the source while VERIFY_RESIZE
        assert dest is not None and source is not None
        if finish == "confirm":
            plane.agents.confirm_resize(CTX, dest, uuid)
            inst = plane.wait_for([uuid], lambda i: i.vm_state == "active")[uuid]
            assert inst.host == dest and inst.flavor["memory_mb"] == 1024 and inst.old_flavor is None
        else:
            old = spec_of(inst, messages.FlavorSpec.from_dict(inst.old_flavor or {}))
            plane.agents.revert_resize(CTX, dest, old)
            inst = plane.wait_for([uuid], lambda i: i.vm_state == "active")[uuid]
            assert inst.host == source and inst.flavor["memory_mb"] == 512
    with plane.db.reader() as s:
        rows_alloc = s.execute(
            sa.select(models.Allocation.consumer_uuid, models.Allocation.used).where(
                models.Allocation.resource_class == "MEMORY_MB"
            )
        ).all()
    assert sorted(rows_alloc) == sorted([(uuids[0], 1024), (uuids[1], 512)])


def test_snapshot_uploads_and_clears_task(plane: ControlPlane) -> None:
    [uuid] = plane.boot(1, SMALL)
    host = plane.wait_settled([uuid])[uuid].host
    assert host is not None
    with plane.db.session() as s:
        s.get(models.Instance, uuid).task_state = "image_snapshot"  # type: ignore[union-attr]
    plane.agents.snapshot_instance(CTX, host, uuid, "image-1")
    plane.wait_for([uuid], lambda i: i.task_state is None)
    [(image_id, data)] = plane.uploads
    assert image_id == "image-1"
    assert formats.detect(data).format == "qcow2"  # a disk the image service accepts, as libvirt's would be


def test_console_output(plane: ControlPlane) -> None:
    [uuid] = plane.boot(1, SMALL)
    host = plane.wait_settled([uuid])[uuid].host
    assert host is not None
    out = plane.agents.get_console_output(CTX, host, uuid, 2)
    assert out.count("\n") == 2 and "login:" in out


def test_lifecycle_event_and_periodic_sync_update_power_state(plane: ControlPlane) -> None:
    uuids = plane.boot(2, SMALL, requested_host="cp-0")
    plane.wait_settled(uuids)
    driver = plane.driver("cp-0")
    driver.simulate_power_change(uuids[0], messages.SHUTDOWN)  # event -> prompt update
    inst = plane.wait_for([uuids[0]], lambda i: i.power_state == messages.SHUTDOWN)[uuids[0]]
    assert inst.vm_state == "stopped"
    driver.set_event_listener(None)  # an event that gets lost...
    driver.simulate_power_change(uuids[1], messages.CRASHED)
    plane.workers.agents["cp-0"].reconcile()  # ...is caught by the periodic sync
    inst = plane.wait_for([uuids[1]], lambda i: i.power_state == messages.CRASHED)[uuids[1]]
    assert inst.vm_state == "stopped"


def test_agent_restart_reconciles_without_duplicates(plane: ControlPlane, caplog: pytest.LogCaptureFixture) -> None:
    uuids = plane.boot(2, SMALL, requested_host="cp-1")
    plane.wait_settled(uuids)
    driver = plane.driver("cp-1")
    orphan = spec_of(plane.instances(uuids)[uuids[0]])
    orphan.uuid = "00000000-0000-0000-0000-00000000beef"
    driver.add_orphan(orphan)
    plane.workers.stop_agent("cp-1")
    with caplog.at_level(logging.WARNING, logger="stratus.compute.agent.manager"):
        plane.workers.add_agent("cp-1", driver)
    assert any(orphan.uuid in r.getMessage() and "orphan" in r.getMessage() for r in caplog.records)
    assert sorted(g.uuid for g in driver.list_instances()) == sorted([*uuids, orphan.uuid])
    assert all(r.vm_state == "active" for r in plane.instances(uuids).values())


def test_agent_restart_settles_only_the_builds_it_cut_short(plane: ControlPlane) -> None:
    """After a crash of the agent process: a build it had started ends ERROR (with why) or ACTIVE (if the
    guest got going); a build it had not started yet (its request still queued) is left to run."""
    cut_short, got_going, queued = plane.create_instances(3, SMALL, name="restart")
    driver = plane.driver("cp-1")
    plane.workers.stop_agent("cp-1")
    with plane.db.session() as s:
        for uuid, task in ((cut_short, "spawning"), (got_going, "spawning"), (queued, "scheduling")):
            inst = s.get(models.Instance, uuid)
            inst.host = inst.node = "cp-1"
            inst.task_state = task
    driver.add_orphan(spec_of(plane.instances([got_going])[got_going]))  # its guest runs
    plane.workers.add_agent("cp-1", driver)
    rows = plane.wait_for([cut_short, got_going], lambda i: i.vm_state != "building")
    assert (rows[cut_short].vm_state, rows[cut_short].host) == ("error", None)
    assert "interrupted: the compute agent on cp-1 restarted" in plane.faults(cut_short)[-1].message
    assert (rows[got_going].vm_state, rows[got_going].power_state) == ("active", messages.RUNNING)
    pending = plane.instances([queued])[queued]
    assert (pending.vm_state, pending.task_state, pending.host) == ("building", "scheduling", "cp-1")
    assert not plane.faults(queued)

    # the broker then delivers the requests again (never acked); the one settled meanwhile is not built
    for uuid in (cut_short, queued):
        plane.agents.build_and_run_instance(CTX, "cp-1", spec_of(plane.instances([uuid])[uuid]))
    assert plane.wait_for([queued], lambda i: i.vm_state != "building")[queued].vm_state == "active"
    assert plane.instances([cut_short])[cut_short].vm_state == "error"
    assert cut_short not in {g.uuid for g in driver.list_instances()}


def test_action_events_recorded(plane: ControlPlane) -> None:
    [uuid] = plane.create_instances(1, SMALL)
    with plane.db.session() as s:
        s.add(
            models.InstanceAction(
                action="create", instance_uuid=uuid, request_id="req-act", user_id=USER, project_id=PROJECT
            )
        )
    request = RequestSpec(instance_uuids=[uuid], project_id=PROJECT, user_id=USER, flavor=SMALL)
    plane.conductor.build_instances({"request_id": "req-act", "auth_token": "t"}, request)
    plane.wait_settled([uuid])

    def events() -> list[tuple[str, str | None]]:
        with plane.db.reader() as s:
            return [(e.event, e.result) for e in s.scalars(sa.select(models.InstanceActionEvent))]

    deadline = time.monotonic() + 30
    while events() != [("compute__do_build_and_run_instance", "Success")]:  # the finish is a cast
        assert time.monotonic() < deadline, events()
        time.sleep(0.02)


def test_resize_without_room_keeps_server_as_it_was(plane: ControlPlane) -> None:
    [uuid] = plane.boot(1, SMALL)
    host = plane.wait_settled([uuid])[uuid].host
    huge = flavor(vcpus=1, memory_mb=65536, root_gb=1, name="huge")
    with plane.db.session() as s:
        inst = s.get(models.Instance, uuid)
        assert inst is not None
        inst.task_state, inst.old_flavor, inst.new_flavor, inst.memory_mb = (
            "resize_prep",
            inst.flavor,
            huge.to_dict(),
            65536,
        )
    request = RequestSpec(instance_uuids=[uuid], project_id=PROJECT, user_id=USER, flavor=huge)
    plane.conductor.resize_instance(CTX, uuid, request)
    inst = plane.wait_for([uuid], lambda i: i.task_state is None)[uuid]
    assert (inst.vm_state, inst.host, inst.memory_mb, inst.new_flavor) == ("active", host, 512, None)
    assert plane.faults(uuid)[-1].message == "No valid host: 3 hosts: 3 lacked RAM (need 65536 MB)"
    assert plane.usage_by_host()[host or ""][0] == {"VCPU": 1, "MEMORY_MB": 512, "DISK_GB": 1}


def test_workers_from_config_run_n_fake_hosts(tmp_path: Path) -> None:
    from stratus.compute.workers import ComputeWorkers
    from stratus.core.bus import Bus
    from stratus.core.config import Config
    from stratus.core.db import Database, upgrade
    from tests.functional.compute.control_plane import bus_url, database_url

    db = Database(database_url(tmp_path, "stratus_test_compute_workers"))
    upgrade(db, "stratus.compute:migrations")
    bus = Bus(bus_url(), name=f"test-{uuidlib.uuid4().hex[:8]}", default_timeout=2.0)
    raw = {
        "core": {"state_dir": str(tmp_path)},
        "compute_agent": {"driver": "fake", "fake_hosts": 3, "fake_memory_mb": 2048},
    }
    agents_first = ComputeWorkers(Config(raw, env={}), bus, None)  # a compute node whose controller is not up yet
    agents_first.agent_conf = agents_first.agent_conf.model_copy(update={"heartbeat_interval": 0.2})
    agents_first.start()
    controller = ComputeWorkers(Config({**raw, "compute_agent": {"driver": "fake", "fake_hosts": 0}}, env={}), bus, db)
    try:
        assert sorted(agents_first.agents) == ["fake-host-0", "fake-host-1", "fake-host-2"]
        controller.start()  # the agents register on their next heartbeat
        deadline = time.monotonic() + 30
        while True:
            with db.reader() as s:
                hosts = sorted(s.scalars(sa.select(models.ResourceProvider.host)))
            if hosts == ["fake-host-0", "fake-host-1", "fake-host-2"]:
                break
            assert time.monotonic() < deadline, hosts
            time.sleep(0.05)
    finally:
        agents_first.stop()
        controller.stop()
        bus.close()
        db.dispose()
