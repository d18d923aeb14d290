"""A compute control plane without the HTTP API: database, bus, conductor and fake-host agents.

Tests create instance rows as the API does, cast ``build_instances`` through ``ConductorAPI`` and
watch the database. ``STRATUS_TEST_DATABASE=postgresql`` and ``STRATUS_TEST_BUS=amqp`` switch to
the local PostgreSQL and RabbitMQ.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from stratus.compute import models
from stratus.compute.messages import FlavorSpec, ImageSpec, RequestSpec
from stratus.compute.rpcapi import ComputeAgentAPI, ConductorAPI
from stratus.compute.scheduler import claims
from stratus.compute.virt.fake import FakeDriver
from stratus.compute.workers import ComputeWorkers
from stratus.core.bus import Bus
from stratus.core.config import Config
from stratus.core.db import Database, upgrade

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PROJECT, USER = "p" * 32, "u" * 32


def database_url(tmp_path: Path, name: str) -> str:
    if os.environ.get("STRATUS_TEST_DATABASE") == "postgresql":
        engine = sa.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()
        return f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    return f"sqlite:///{tmp_path}/compute.sqlite"


def bus_url() -> str:
    return "amqp://guest:guest@127.0.0.1:5672//" if os.environ.get("STRATUS_TEST_BUS") == "amqp" else "memory://"


def flavor(vcpus: int = 1, memory_mb: int = 512, root_gb: int = 1, name: str = "m1.test") -> FlavorSpec:
    return FlavorSpec(flavorid=name, name=name, vcpus=vcpus, memory_mb=memory_mb, root_gb=root_gb)


WORKERS_DB = f"stratus_test_compute_workers_{os.getpid()}"  # per process: concurrent runs never collide


class Observer:
    """What tests look at: instances, faults and usage straight from the database, and the fake drivers."""

    def __init__(self, db: Database, workers: ComputeWorkers):
        self.db = db
        self.workers = workers

    def driver(self, host: str) -> FakeDriver:
        driver = self.workers.agents[host].driver
        assert isinstance(driver, FakeDriver)
        return driver

    def instances(self, uuids: Iterable[str]) -> dict[str, models.Instance]:
        with self.db.reader() as s:
            return {
                i.uuid: i for i in s.scalars(sa.select(models.Instance).where(models.Instance.uuid.in_(list(uuids))))
            }

    def faults(self, instance_uuid: str) -> list[models.InstanceFault]:
        with self.db.reader() as s:
            q = sa.select(models.InstanceFault).where(models.InstanceFault.instance_uuid == instance_uuid)
            return list(s.scalars(q.order_by(models.InstanceFault.id)))

    def wait_settled(self, uuids: list[str], timeout: float = 60.0) -> dict[str, models.Instance]:
        """Wait until no instance is building any more (ACTIVE or ERROR); fails at the deadline."""
        return self.wait_for(uuids, lambda i: i.vm_state != "building" and i.task_state is None, timeout)

    def wait_for(
        self, uuids: list[str], done: Callable[[models.Instance], bool], timeout: float = 60.0
    ) -> dict[str, models.Instance]:
        deadline = time.monotonic() + timeout
        while True:
            rows = self.instances(uuids)
            if len(rows) == len(uuids) and all(done(i) for i in rows.values()):
                return rows
            if time.monotonic() > deadline:
                pending = {u: (i.vm_state, i.task_state) for u, i in rows.items() if not done(i)}
                raise AssertionError(f"{len(pending)} instances not done after {timeout}s: {list(pending.items())[:5]}")
            time.sleep(0.02)  # polling the database for a condition, with a deadline

    def usage_by_host(self) -> dict[str, tuple[dict[str, int], dict[str, int]]]:
        """host -> (used per class, capacity per class), straight from the database."""
        with self.db.reader() as s:
            providers = {p.uuid: p.host for p in s.scalars(sa.select(models.ResourceProvider))}
            inv = claims.load_inventories(s)
            used = claims.load_usages(s)
        return {
            host: (used.get(p, {}), {rc: r.capacity for rc, r in inv.get(p, {}).items()})
            for p, host in providers.items()
        }


class ControlPlane(Observer):
    """Conductor + agents on one database and bus; ``add_host`` starts more agents of any size."""

    def __init__(self, tmp_path: Path, *, scheduler: dict[str, Any] | None = None, db_name: str = WORKERS_DB):
        self.db = Database(database_url(tmp_path, db_name))
        upgrade(self.db, "stratus.compute:migrations")
        self.bus = Bus(bus_url(), name=f"test-{uuid.uuid4().hex[:8]}", default_timeout=60)
        sched = {"reserved_host_memory_mb": 0, "service_down_time": 60, **(scheduler or {})}
        raw = {
            "core": {"state_dir": str(tmp_path), "host": "cp-test"},
            "compute_scheduler": sched,
            "compute_agent": {
                "driver": "fake",
                "fake_hosts": 0,
                "heartbeat_interval": 3600,
                "resource_report_interval": 3600,
            },
        }
        self.config = Config(raw, env={})
        self.uploads: list[tuple[str, bytes]] = []
        workers = ComputeWorkers(self.config, self.bus, self.db, image_source_factory=lambda ctx: _Images(self))
        super().__init__(self.db, workers)
        workers.start()
        self.conductor = ConductorAPI(self.bus)
        self.agents = ComputeAgentAPI(self.bus)

    def close(self) -> None:
        self.workers.stop()
        self.bus.close()
        self.db.dispose()

    def add_host(
        self, name: str, *, vcpus: int = 8, memory_mb: int = 4096, disk_gb: int = 100, **kw: Any
    ) -> FakeDriver:
        driver = FakeDriver(vcpus, memory_mb, disk_gb, **kw)
        self.workers.add_agent(name, driver)
        return driver

    # what the API does

    def create_instances(self, n: int, fl: FlavorSpec, *, name: str = "vm", group: str | None = None) -> list[str]:
        uuids = [str(uuid.uuid4()) for _ in range(n)]
        with self.db.session() as s:
            for i, u in enumerate(uuids):
                s.add(
                    models.Instance(
                        uuid=u,
                        display_name=f"{name}-{i}",
                        hostname=f"{name}-{i}",
                        project_id=PROJECT,
                        user_id=USER,
                        flavor=fl.to_dict(),
                        vcpus=fl.vcpus,
                        memory_mb=fl.memory_mb,
                        root_gb=fl.root_gb,
                        vm_state="building",
                        task_state="scheduling",
                        launch_index=i,
                        requested_networks="none",
                    )
                )
                if group:
                    s.add(models.ServerGroupMember(group_uuid=group, instance_uuid=u))
        return uuids

    def create_group(self, policy: str) -> str:
        with self.db.session() as s:
            g = models.ServerGroup(name=policy, project_id=PROJECT, user_id=USER, policy=policy)
            s.add(g)
            s.flush()
            return g.uuid

    def build(self, uuids: list[str], fl: FlavorSpec, **spec: Any) -> None:
        request = RequestSpec(
            instance_uuids=uuids,
            project_id=PROJECT,
            user_id=USER,
            flavor=fl,
            image=spec.pop("image", ImageSpec(id="img")),
            **spec,
        )
        self.conductor.build_instances({"request_id": f"req-{uuid.uuid4()}", "auth_token": "t"}, request)

    def boot(self, n: int, fl: FlavorSpec, **spec: Any) -> list[str]:
        uuids = self.create_instances(n, fl, group=spec.get("server_group_uuid"))
        self.build(uuids, fl, **spec)
        return uuids


class _Images:
    def __init__(self, plane: ControlPlane):
        self._plane = plane

    def download(self, image_id: str, dest: Path) -> int:
        dest.write_bytes(b"fake image")
        return 10

    def upload(self, image_id: str, src: Path) -> None:
        self._plane.uploads.append((image_id, src.read_bytes()))
