"""Placement-style claims on a real (SQLite) database: capacity, atomicity, concurrency."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from stratus.compute.messages import FlavorSpec, HostResources
from stratus.compute.models import Allocation, ResourceProvider
from stratus.compute.scheduler import claims
from stratus.core.db import Database, upgrade

RATIOS = claims.AllocationRatios(
    cpu=2.0, ram=1.0, disk=1.0, reserved_cpus=0, reserved_memory_mb=512, reserved_disk_gb=0
)
ONE = {claims.VCPU: 1, claims.MEMORY_MB: 512, claims.DISK_GB: 1}


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path}/claims.sqlite")
    upgrade(database, "stratus.compute:migrations")
    yield database
    database.dispose()


def provider(db: Database, name: str = "h1", memory_mb: int = 2560, vcpus: int = 4) -> str:
    with db.session() as s:
        return claims.set_inventory(s, name, HostResources(name, vcpus, memory_mb, 100), RATIOS)


def usage(db: Database, rp: str) -> dict[str, int]:
    with db.reader() as s:
        return claims.load_usages(s, [rp]).get(rp, {})


def generation(db: Database, rp: str) -> int:
    with db.reader() as s:
        return s.get(ResourceProvider, rp).generation  # type: ignore[union-attr]


def test_resources_for_flavor_counts_swap_as_disk() -> None:
    fl = FlavorSpec(flavorid="f", name="f", vcpus=2, memory_mb=1024, root_gb=10, ephemeral_gb=5, swap=1500)
    assert claims.resources_for(fl) == {"VCPU": 2, "MEMORY_MB": 1024, "DISK_GB": 17}


def test_inventory_from_host_resources(db: Database) -> None:
    rp = provider(db)
    with db.reader() as s:
        inv = claims.load_inventories(s)[rp]
    assert inv["MEMORY_MB"].capacity == 2048 and inv["VCPU"].capacity == 8 and inv["DISK_GB"].capacity == 100
    assert provider(db) == rp  # a second report updates the same provider
    assert generation(db, rp) == 2


def test_claim_until_full_then_rejected_with_shortage(db: Database) -> None:
    rp = provider(db)
    for _ in range(4):
        with db.session() as s:
            claims.claim(s, rp, str(uuid.uuid4()), ONE)
    with pytest.raises(claims.ClaimRejected) as err, db.session() as s:
        claims.claim(s, rp, "one-too-many", ONE)
    assert err.value.shortage == claims.Shortage("MEMORY_MB", 512, 0)
    assert err.value.shortage.describe() == "lacked RAM (need 512 MB)"
    assert usage(db, rp) == {"VCPU": 4, "MEMORY_MB": 2048, "DISK_GB": 4}


def test_max_unit_limits_one_claim(db: Database) -> None:
    rp = provider(db, vcpus=2)  # capacity 4 VCPU with ratio 2, but one instance may not exceed 2
    with pytest.raises(claims.ClaimRejected), db.session() as s:
        claims.claim(s, rp, "c", {claims.VCPU: 3})


def test_free_and_move(db: Database) -> None:
    rp = provider(db)
    with db.session() as s:
        claims.claim(s, rp, "a", ONE)
    with db.session() as s:
        claims.move(s, "a", "b")
    with db.reader() as s:
        assert set(s.scalars(sa.select(Allocation.consumer_uuid))) == {"b"}
    with db.session() as s:
        assert claims.free(s, "b") == 3
        assert claims.free(s, "b") == 0
    assert usage(db, rp) == {}


def test_concurrent_claims_never_oversubscribe(db: Database) -> None:
    rp = provider(db, memory_mb=512 * 10 + 512, vcpus=16)  # room for exactly 10 (RAM-bound)
    won: list[str] = []
    lost: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(40)

    def attempt(i: int) -> None:
        start.wait()
        try:
            with db.session() as s:
                claims.claim(s, rp, f"c{i}", ONE)
            outcome = won
        except claims.ClaimRejected:
            outcome = lost
        with lock:
            outcome.append(f"c{i}")

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert (len(won), len(lost)) == (10, 30)
    assert usage(db, rp)["MEMORY_MB"] == 5120
