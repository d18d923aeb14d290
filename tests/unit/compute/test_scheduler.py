"""select_destinations on a real (SQLite) database: choice, alternates, claims, the 'why'."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute.conf import SchedulerConfig
from stratus.compute.messages import FlavorSpec, HostResources, RequestSpec
from stratus.compute.models import ComputeService, Instance
from stratus.compute.scheduler import claims
from stratus.compute.scheduler.filters import HostState
from stratus.compute.scheduler.manager import ClaimAborted, SchedulerManager
from stratus.core.db import Database, upgrade, utcnow

FLAVOR = FlavorSpec(flavorid="f", name="f", vcpus=1, memory_mb=1024, root_gb=1)
RATIOS = claims.AllocationRatios(reserved_memory_mb=0)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/sched.sqlite")
    upgrade(database, "stratus.compute:migrations")
    yield database
    database.dispose()


def add_host(db: Database, name: str, memory_mb: int, **service: object) -> None:
    with db.session() as s:
        claims.set_inventory(s, name, HostResources(name, 16, memory_mb, 100), RATIOS)
        s.add(ComputeService(host=name, binary="nova-compute", last_seen_up=utcnow(), **service))


def add_instances(db: Database, n: int) -> list[str]:
    uuids = [f"00000000-0000-0000-0000-{i:012d}" for i in range(n)]
    with db.session() as s:
        for u in uuids:
            s.add(Instance(uuid=u, display_name=u, project_id="p", user_id="u", requested_networks="none"))
    return uuids


def spec(uuids: list[str], **kw: object) -> RequestSpec:
    return RequestSpec(instance_uuids=uuids, project_id="p", user_id="u", flavor=FLAVOR, **kw)  # type: ignore[arg-type]


def scheduler(db: Database, **conf: object) -> SchedulerManager:
    return SchedulerManager(db, SchedulerConfig(**conf), rng=random.Random(1))  # type: ignore[arg-type]


def set_host(session: Session, uuid: str, host: HostState) -> None:
    inst = session.get(Instance, uuid)
    assert inst is not None
    inst.host = host.host


def test_picks_most_free_ram_with_alternates(db: Database) -> None:
    for name, mem in [("a", 2048), ("b", 8192), ("c", 4096), ("d", 3072)]:
        add_host(db, name, mem)
    [sel] = scheduler(db, max_attempts=3).select_destinations(spec(add_instances(db, 1)))
    assert (sel.host, sel.alternates, sel.error) == ("b", ["c", "d"], None)


def test_multi_instance_request_accounts_as_it_goes(db: Database) -> None:
    add_host(db, "a", 2048)
    add_host(db, "b", 1024)
    sels = scheduler(db).select_destinations(spec(add_instances(db, 4)), on_claim=set_host)
    assert [s.host for s in sels] == ["a", "a", "b", None]
    assert sels[3].error == "No valid host: 2 hosts: 2 lacked RAM (need 1024 MB)"
    with db.reader() as s:
        hosts = dict(s.execute(sa.select(Instance.uuid, Instance.host)).tuples().all())
    assert sorted(h or "-" for h in hosts.values()) == ["-", "a", "a", "b"]


def test_stale_view_falls_back_to_next_host(db: Database) -> None:
    add_host(db, "a", 4096)
    add_host(db, "b", 1024)
    sched = scheduler(db)
    uuids = add_instances(db, 2)
    original = claims.load_usages

    def stale(session: Session, provider_uuids: object = None) -> dict:  # type: ignore[type-arg]
        return {} if provider_uuids is None else original(session, provider_uuids)  # type: ignore[arg-type]

    with db.session() as s:  # someone else filled "a" after we would have looked
        rp = s.scalar(sa.text("SELECT uuid FROM resource_provider WHERE host = 'a'"))
        claims.claim(s, rp, "other", {claims.MEMORY_MB: 4096})
    monkey = pytest.MonkeyPatch()
    monkey.setattr(claims, "load_usages", stale)
    try:
        [sel] = sched.select_destinations(spec(uuids[:1]))
    finally:
        monkey.undo()
    assert sel.host == "b"


def test_down_and_disabled_hosts_and_the_why(db: Database) -> None:
    add_host(db, "up", 512)
    add_host(db, "off", 8192, disabled=True)
    with db.session() as s:
        claims.set_inventory(s, "old", HostResources("old", 16, 8192, 100), RATIOS)
        s.add(ComputeService(host="old", binary="nova-compute", last_seen_up=utcnow() - dt.timedelta(minutes=5)))
    [sel] = scheduler(db).select_destinations(spec(add_instances(db, 1)))
    assert sel.error == "No valid host: 3 hosts: 1 disabled, 1 down (no recent heartbeat), 1 lacked RAM (need 1024 MB)"


def test_no_hosts_at_all(db: Database) -> None:
    [sel] = scheduler(db).select_destinations(spec(add_instances(db, 1)))
    assert sel.error == "No valid host: no compute hosts are registered"


def test_claim_on_host_for_alternates(db: Database) -> None:
    add_host(db, "a", 1024)
    add_host(db, "b", 1024, disabled=True)
    sched = scheduler(db)
    uuids = add_instances(db, 2)
    assert sched.claim_on_host(spec(uuids), uuids[0], "a") is None
    assert sched.claim_on_host(spec(uuids), uuids[1], "a") == "lacked RAM (need 1024 MB)"
    assert sched.claim_on_host(spec(uuids), uuids[1], "b") == "disabled"
    assert sched.claim_on_host(spec(uuids), uuids[1], "zz") == "no longer registered"


def test_aborted_claim_writes_nothing(db: Database) -> None:
    add_host(db, "a", 4096)

    def abort(session: Session, uuid: str, host: HostState) -> None:
        raise ClaimAborted(uuid)

    [sel] = scheduler(db).select_destinations(spec(add_instances(db, 1)), on_claim=abort)
    assert sel.host is None
    with db.reader() as s:
        assert claims.load_usages(s) == {}


def test_host_subset_size_randomises_among_the_best(db: Database) -> None:
    for name in "abcd":
        add_host(db, name, 8192)
    sched = scheduler(db, host_subset_size=4)
    chosen = {s.host for s in sched.select_destinations(spec(add_instances(db, 6)))}
    assert len(chosen) > 1
