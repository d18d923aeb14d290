"""Placement-style accounting: inventories per resource provider and allocations per consumer.

Each host is a resource provider with inventories of VCPU, MEMORY_MB and DISK_GB; its capacity for
a class is ``(total - reserved) * allocation_ratio``. A claim checks capacity and writes the
consumer's allocations in the caller's write transaction, after locking the provider row
(``SELECT ... FOR UPDATE`` on PostgreSQL; on SQLite the write transaction itself is exclusive), so
concurrent claims on one host are serialised and can never oversubscribe it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute.messages import FlavorSpec, HostResources
from stratus.compute.models import Allocation, Inventory, ResourceProvider
from stratus.core.db import utcnow

VCPU, MEMORY_MB, DISK_GB = "VCPU", "MEMORY_MB", "DISK_GB"
RESOURCE_CLASSES = (VCPU, MEMORY_MB, DISK_GB)


@dataclass(frozen=True)
class InventoryRecord:
    total: int
    reserved: int = 0
    max_unit: int | None = None
    allocation_ratio: float = 1.0

    @property
    def capacity(self) -> int:
        return max(0, math.floor((self.total - self.reserved) * self.allocation_ratio))


@dataclass(frozen=True)
class AllocationRatios:
    """How inventories are derived from what a host reports (from the scheduler config)."""

    cpu: float = 4.0
    ram: float = 1.0
    disk: float = 1.0
    reserved_cpus: int = 0
    reserved_memory_mb: int = 512
    reserved_disk_gb: int = 0


@dataclass(frozen=True)
class Shortage:
    """One resource a provider lacks for a request."""

    resource_class: str
    need: int
    free: int

    def describe(self) -> str:
        return describe_shortage(self.resource_class, self.need)


class ClaimRejected(Exception):
    """The provider cannot hold the request; ``shortage`` says which resource."""

    def __init__(self, provider: str, shortage: Shortage):
        super().__init__(f"{provider} {shortage.describe()} (free {shortage.free})")
        self.provider = provider
        self.shortage = shortage


def describe_shortage(resource_class: str, need: int) -> str:
    words = {VCPU: ("VCPU", ""), MEMORY_MB: ("RAM", " MB"), DISK_GB: ("disk", " GB")}
    name, unit = words.get(resource_class, (resource_class, ""))
    return f"lacked {name} (need {need}{unit})"


def resources_for(flavor: FlavorSpec) -> dict[str, int]:
    """What one instance of ``flavor`` consumes (swap counts toward disk, rounded up to whole GB)."""
    disk = flavor.root_gb + flavor.ephemeral_gb + math.ceil(flavor.swap / 1024)
    return {VCPU: flavor.vcpus, MEMORY_MB: flavor.memory_mb, DISK_GB: disk}


def shortage(inventories: dict[str, InventoryRecord], used: dict[str, int], want: dict[str, int]) -> Shortage | None:
    """The first requested resource that does not fit (free capacity or max_unit), or None."""
    for rc, need in want.items():
        if need <= 0:
            continue
        inv = inventories.get(rc)
        if inv is None:
            return Shortage(rc, need, 0)
        free = inv.capacity - used.get(rc, 0)
        if need > free or (inv.max_unit is not None and need > inv.max_unit):
            return Shortage(rc, need, max(0, free))
    return None


def load_inventories(
    session: Session, provider_uuids: Iterable[str] | None = None
) -> dict[str, dict[str, InventoryRecord]]:
    """provider uuid -> resource class -> inventory (plain column reads: this runs for every placement)."""
    query = sa.select(
        Inventory.provider_uuid,
        Inventory.resource_class,
        Inventory.total,
        Inventory.reserved,
        Inventory.max_unit,
        Inventory.allocation_ratio,
    )
    if provider_uuids is not None:
        query = query.where(Inventory.provider_uuid.in_(list(provider_uuids)))
    out: dict[str, dict[str, InventoryRecord]] = {}
    for provider, rc, total, reserved, max_unit, ratio in session.execute(query):
        out.setdefault(provider, {})[rc] = InventoryRecord(total, reserved, max_unit, ratio)
    return out


def load_usages(session: Session, provider_uuids: Iterable[str] | None = None) -> dict[str, dict[str, int]]:
    query = sa.select(Allocation.provider_uuid, Allocation.resource_class, sa.func.sum(Allocation.used)).group_by(
        Allocation.provider_uuid, Allocation.resource_class
    )
    if provider_uuids is not None:
        query = query.where(Allocation.provider_uuid.in_(list(provider_uuids)))
    out: dict[str, dict[str, int]] = {}
    for provider, rc, used in session.execute(query):
        out.setdefault(provider, {})[rc] = int(used or 0)
    return out


def claim(session: Session, provider_uuid: str, consumer_uuid: str, want: dict[str, int]) -> None:
    """Allocate ``want`` on the provider for the consumer, inside the caller's write transaction.

    Raises ClaimRejected if it does not fit; nothing is written then. The consumer must not already
    hold allocations on this provider (free or move them first).
    """
    provider = session.execute(
        sa.select(ResourceProvider).where(ResourceProvider.uuid == provider_uuid).with_for_update()
    ).scalar_one()
    inventories = load_inventories(session, [provider_uuid]).get(provider_uuid, {})
    used = load_usages(session, [provider_uuid]).get(provider_uuid, {})
    lacking = shortage(inventories, used, want)
    if lacking is not None:
        raise ClaimRejected(provider.host, lacking)
    session.add_all(
        Allocation(provider_uuid=provider_uuid, consumer_uuid=consumer_uuid, resource_class=rc, used=amount)
        for rc, amount in want.items()
        if amount > 0
    )
    provider.generation += 1
    session.flush()


def free(session: Session, consumer_uuid: str, provider_uuid: str | None = None) -> int:
    """Delete the consumer's allocations (on one provider, or everywhere); returns rows removed. Idempotent."""
    query = sa.delete(Allocation).where(Allocation.consumer_uuid == consumer_uuid)
    if provider_uuid is not None:
        query = query.where(Allocation.provider_uuid == provider_uuid)
    providers = consumer_providers(session, consumer_uuid) if provider_uuid is None else [provider_uuid]
    removed = session.execute(query).rowcount or 0  # type: ignore[attr-defined]
    if removed:
        _bump(session, providers)
    return removed


def move(session: Session, from_consumer: str, to_consumer: str) -> None:
    """Hand every allocation of ``from_consumer`` to ``to_consumer`` (resize bookkeeping)."""
    session.execute(
        sa.update(Allocation).where(Allocation.consumer_uuid == from_consumer).values(consumer_uuid=to_consumer)
    )


def consumer_providers(session: Session, consumer_uuid: str) -> list[str]:
    query = sa.select(Allocation.provider_uuid).where(Allocation.consumer_uuid == consumer_uuid).distinct()
    return list(session.scalars(query))


def set_inventory(session: Session, host: str, resources: HostResources, ratios: AllocationRatios) -> str:
    """Create or update the host's provider and its three inventories; returns the provider uuid."""
    provider = session.scalars(
        sa.select(ResourceProvider).where(ResourceProvider.name == resources.hypervisor_hostname).with_for_update()
    ).one_or_none()
    if provider is None:
        provider = ResourceProvider(name=resources.hypervisor_hostname, host=host)
        session.add(provider)
        session.flush()
    provider.host = host
    provider.hypervisor_type = resources.hypervisor_type
    provider.hypervisor_version = resources.hypervisor_version
    provider.host_ip = resources.host_ip
    provider.cpu_info = dict(resources.cpu_info)
    provider.updated_at = utcnow()
    wanted = {
        VCPU: (resources.vcpus, ratios.reserved_cpus, ratios.cpu),
        MEMORY_MB: (resources.memory_mb, ratios.reserved_memory_mb, ratios.ram),
        DISK_GB: (resources.disk_gb, ratios.reserved_disk_gb, ratios.disk),
    }
    existing = {
        i.resource_class: i
        for i in session.scalars(sa.select(Inventory).where(Inventory.provider_uuid == provider.uuid))
    }
    for rc, (total, reserved, ratio) in wanted.items():
        inv = existing.get(rc)
        if inv is None:
            inv = Inventory(provider_uuid=provider.uuid, resource_class=rc, total=total, max_unit=total)
            session.add(inv)
        inv.total, inv.max_unit = total, total
        inv.reserved, inv.allocation_ratio = min(reserved, total), ratio
    provider.generation += 1
    session.flush()
    return provider.uuid


def _bump(session: Session, provider_uuids: Iterable[str]) -> None:
    ids = list(provider_uuids)
    if ids:
        session.execute(
            sa.update(ResourceProvider)
            .where(ResourceProvider.uuid.in_(ids))
            .values(generation=ResourceProvider.generation + 1)
        )
