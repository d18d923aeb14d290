"""200 boots at once over 20 fake hosts that fit only 150: exactly 150 ACTIVE, 50 ERROR saying why,
and no host's allocations ever exceed its capacity (checked in the database while the boots run)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stratus.compute.service import ComputeService
from stratus.compute.virt.fake import FakeDriver
from stratus.compute.workers import ComputeWorkers
from stratus.core.api.auth import Authenticator, StaticValidator
from stratus.core.bus import Bus
from stratus.image.service import ImageService
from tests.functional.compute.conftest import PERSONAS, Api, ClientTransport, TransportImageSource, make_config
from tests.functional.compute.control_plane import ControlPlane, Observer, bus_url, flavor

HOSTS, BOOTS, FIT = 20, 200, 150
FLAVOR = flavor(vcpus=1, memory_mb=512, root_gb=1)


@pytest.fixture
def plane(tmp_path: Path) -> Iterator[ControlPlane]:
    cp = ControlPlane(tmp_path)
    try:
        for i in range(HOSTS):  # 10 hosts of 8 slots and 10 of 7 slots (RAM-bound): 150 in all
            cp.add_host(f"conc-{i:02d}", vcpus=64, memory_mb=512 * (8 if i < 10 else 7), disk_gb=1000)
        yield cp
    finally:
        cp.close()


def overcommitted(plane: Observer) -> list[str]:
    bad = []
    for host, (used, capacity) in plane.usage_by_host().items():
        bad += [f"{host} {rc} {n}>{capacity.get(rc, 0)}" for rc, n in used.items() if n > capacity.get(rc, 0)]
    return bad


def test_200_boots_over_150_slots(plane: ControlPlane) -> None:
    uuids = plane.create_instances(BOOTS, FLAVOR)
    violations: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            violations.extend(overcommitted(plane))
            done.wait(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=32) as pool:  # 200 separate requests, as 200 API calls would be
            list(pool.map(lambda u: plane.build([u], FLAVOR), uuids))
        rows = plane.wait_settled(uuids, timeout=120)
    finally:
        done.set()
        watcher.join()

    states = [r.vm_state for r in rows.values()]
    assert states.count("active") == FIT
    assert states.count("error") == BOOTS - FIT
    assert violations == []
    assert overcommitted(plane) == []
    for r in rows.values():
        if r.vm_state == "error":
            faults = plane.faults(r.uuid)
            assert faults and faults[-1].message == "No valid host: 20 hosts: 20 lacked RAM (need 512 MB)"
            assert r.host is None
        else:
            assert r.host is not None and r.power_state == 1
    per_host = {h: used.get("MEMORY_MB", 0) // 512 for h, (used, _) in plane.usage_by_host().items()}
    assert sum(per_host.values()) == FIT
    active_per_host: dict[str, int] = {}
    for r in rows.values():
        if r.vm_state == "active":
            assert r.host is not None
            active_per_host[r.host] = active_per_host.get(r.host, 0) + 1
    assert active_per_host == {h: n for h, n in per_host.items() if n}
    for host in per_host:  # every guest the database places on a host really runs there, and only those
        guests = {g.uuid for g in plane.driver(host).list_instances()}
        assert guests == {r.uuid for r in rows.values() if r.host == host}


@pytest.fixture
def api_stack(tmp_path: Path) -> Iterator[tuple[Api, Observer]]:
    """The compute API (HTTP, in process) over the same 20 hosts; the plane is used for its DB helpers."""
    config = make_config(tmp_path, quota_instances=-1, quota_cores=-1, quota_ram=-1).with_overrides(
        core={"bus_url": bus_url()},
        compute_agent={"fake_hosts": 0},
        compute_scheduler={"reserved_host_memory_mb": 0},
    )
    auth = Authenticator(StaticValidator(PERSONAS))
    image_service = ImageService(config, authenticator=auth)
    image_client = TestClient(image_service.app, raise_server_exceptions=False)
    transport = ClientTransport(image_client)
    bus = Bus(bus_url(), name=f"test-{uuid.uuid4().hex[:8]}", default_timeout=60.0)
    service = ComputeService(config, bus, authenticator=auth, image_transport=transport)
    workers = ComputeWorkers(service, bus, service.db, image_source_factory=lambda ctx: TransportImageSource(
        transport, str(ctx.get("auth_token") or "")))  # fmt: skip
    workers.start()
    for i in range(HOSTS):
        workers.add_agent(f"conc-{i:02d}", FakeDriver(64, 512 * (8 if i < 10 else 7), 1000))
    client = TestClient(service.app, raise_server_exceptions=False)
    api = Api(client, service, image_client)
    plane = Observer(service.db, workers)
    try:
        api.image_id = api.make_image(name="cirros")
        api.flavor_id = api.make_flavor("m1.conc", ram=512, vcpus=1, disk=1)
        yield api, plane
    finally:
        workers.stop()
        client.close()
        bus.close()
        service.close()
        image_client.close()
        image_service.close()


def test_200_boots_through_the_http_api(api_stack: tuple[Api, Observer]) -> None:
    api, plane = api_stack
    violations: list[str] = []
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            violations.extend(overcommitted(plane))
            done.wait(0.01)

    def boot(i: int) -> str:
        return str(api.boot(name=f"conc-{i}", networks="none", version="2.37")["server"]["id"])

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(max_workers=32) as pool:
            uuids = list(pool.map(boot, range(BOOTS)))
        rows = plane.wait_settled(uuids, timeout=180)
    finally:
        done.set()
        watcher.join()
    states = [r.vm_state for r in rows.values()]
    assert (states.count("active"), states.count("error")) == (FIT, BOOTS - FIT)
    assert violations == [] and overcommitted(plane) == []
    errored = [u for u, r in rows.items() if r.vm_state == "error"]
    for u in errored[:5]:  # the user sees why, through the API
        server = api.server(u)
        assert server["status"] == "ERROR"
        assert server["fault"]["message"] == "No valid host: 20 hosts: 20 lacked RAM (need 512 MB)"
    active = [api.server(u) for u in uuids if rows[u].vm_state == "active"][:5]
    assert all(s["status"] == "ACTIVE" for s in active)
