"""Host filters: each says why a host cannot take a request, or None if it can.

The reasons are short phrases ("disabled", "lacked RAM (need 2048 MB)") that ``explain`` counts
into the fault a user sees when no host fits.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from stratus.compute.messages import RequestSpec
from stratus.compute.scheduler.claims import InventoryRecord, shortage

AFFINITY, ANTI_AFFINITY = "affinity", "anti-affinity"
SOFT_AFFINITY, SOFT_ANTI_AFFINITY = "soft-affinity", "soft-anti-affinity"


@dataclass
class HostState:
    """What the scheduler knows of one host: its service, provider, inventories and usage."""

    host: str
    provider_uuid: str
    availability_zone: str = "nova"
    disabled: bool = False
    forced_down: bool = False
    last_seen_up: dt.datetime | None = None
    hypervisor_type: str = "fake"
    cpu_arch: str | None = None
    inventories: dict[str, InventoryRecord] = field(default_factory=dict)
    used: dict[str, int] = field(default_factory=dict)

    def free(self, resource_class: str) -> int:
        inv = self.inventories.get(resource_class)
        return 0 if inv is None else inv.capacity - self.used.get(resource_class, 0)

    def consume(self, want: dict[str, int]) -> None:
        for rc, amount in want.items():
            self.used[rc] = self.used.get(rc, 0) + amount


@dataclass
class GroupInfo:
    """A server group and how many of its members each host runs (the instance being placed excluded)."""

    uuid: str
    policy: str
    rules: dict[str, object] = field(default_factory=dict)
    member_hosts: Counter[str] = field(default_factory=Counter)


@dataclass
class FilterRequest:
    spec: RequestSpec
    want: dict[str, int]
    now: dt.datetime
    service_down_time: float
    group: GroupInfo | None = None


class HostFilter:
    name = "filter"

    def reject(self, host: HostState, req: FilterRequest) -> str | None:
        """Why ``host`` cannot take ``req`` (a short phrase), or None."""
        raise NotImplementedError


class RequestedHostFilter(HostFilter):
    name = "requested_host"

    def reject(self, host: HostState, req: FilterRequest) -> str | None:
        wanted = req.spec.requested_host
        return None if not wanted or wanted == host.host else f"not the requested host {wanted}"


class IgnoreHostsFilter(HostFilter):
    name = "ignore_hosts"

    def reject(self, host: HostState, req: FilterRequest) -> str | None:
        return "excluded (already tried for this request)" if host.host in req.spec.ignore_hosts else None


class ComputeFilter(HostFilter):
    """The host's service is enabled and up (heartbeat within service_down_time, not forced down)."""

    name = "compute"

    def reject(self, host: HostState, req: FilterRequest) -> str | None:
        if host.disabled:
            return "disabled"
        if host.forced_down or not is_up(host.last_seen_up, req.now, req.service_down_time):
            return "down (no recent heartbeat)"
        return None


class AvailabilityZoneFilter(HostFilter):
    name = "availability_zone"

    def reject(self, host: HostState, req: FilterRequest) -> str | None:
        zone = req.spec.availability_zone
        return None if not zone or zone == host.availability_zone else f"not in availability zone {zone}"


class ImagePropertiesFilter(HostFilter):
    """The image's hw_architecture and hypervisor_type (img_hv_type), when set, match the host."""

    name = "image_properties"

    def reject(self, host: HostState, req: FilterRequest) -> str | None:
        props = req.spec.image.properties if req.spec.image else {}
        arch = props.get("hw_architecture") or props.get("architecture")
        if arch and host.cpu_arch and str(arch).lower() != host.cpu_arch.lower():
            return f"not of architecture {arch}"
        hv_type = props.get("img_hv_type") or props.get("hypervisor_type")
        if hv_type and str(hv_type).lower() != host.hypervisor_type.lower():
            return f"not of hypervisor type {hv_type}"
        return None


class ResourceFilter(HostFilter):
    """Free VCPU, MEMORY_MB and DISK_GB (capacity minus allocations) cover the flavor."""

    name = "resources"

    def reject(self, host: HostState, req: FilterRequest) -> str | None:
        lacking = shortage(host.inventories, host.used, req.want)
        return None if lacking is None else lacking.describe()


class ServerGroupFilter(HostFilter):
    """Strict affinity (all members on one host) and anti-affinity (at most max_server_per_host per host)."""

    name = "server_group"

    def reject(self, host: HostState, req: FilterRequest) -> str | None:
        group = req.group
        if group is None:
            return None
        if group.policy == AFFINITY:
            placed = [h for h, n in group.member_hosts.items() if n > 0]
            if placed and host.host not in placed:
                return f"not the host of affinity group {group.uuid}"
        elif group.policy == ANTI_AFFINITY:
            limit = int(str(group.rules.get("max_server_per_host", 1)))
            if group.member_hosts.get(host.host, 0) >= limit:
                return f"already hosts a member of anti-affinity group {group.uuid}"
        return None


DEFAULT_FILTERS: tuple[HostFilter, ...] = (
    RequestedHostFilter(),
    IgnoreHostsFilter(),
    ComputeFilter(),
    AvailabilityZoneFilter(),
    ImagePropertiesFilter(),
    ResourceFilter(),
    ServerGroupFilter(),
)


def is_up(last_seen_up: dt.datetime | None, now: dt.datetime, service_down_time: float) -> bool:
    return last_seen_up is not None and (now - last_seen_up).total_seconds() <= service_down_time


def run_filters(
    hosts: Sequence[HostState], req: FilterRequest, filters: Sequence[HostFilter] = DEFAULT_FILTERS
) -> tuple[list[HostState], dict[str, str]]:
    """The hosts that pass every filter, and for each other host the first reason it failed."""
    passed: list[HostState] = []
    rejected: dict[str, str] = {}
    for host in hosts:
        for f in filters:
            reason = f.reject(host, req)
            if reason is not None:
                rejected[host.host] = reason
                break
        else:
            passed.append(host)
    return passed, rejected


def explain(total_hosts: int, reasons: dict[str, str]) -> str:
    """'No valid host: 3 hosts: 2 lacked RAM (need 2048 MB), 1 disabled' (most common reason first)."""
    if total_hosts == 0:
        return "No valid host: no compute hosts are registered"
    counts = Counter(reasons.values())
    parts = ", ".join(f"{n} {reason}" for reason, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    noun = "host" if total_hosts == 1 else "hosts"
    return f"No valid host: {total_hosts} {noun}: {parts}" if parts else f"No valid host: {total_hosts} {noun}"
