"""Host weighers: rank the hosts that passed the filters (highest total weight first).

As in Nova, each weigher's raw values are normalised to 0..1 over the candidate hosts and then
multiplied by its multiplier, so weighers combine whatever their units.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from stratus.compute.scheduler.claims import MEMORY_MB
from stratus.compute.scheduler.filters import SOFT_AFFINITY, SOFT_ANTI_AFFINITY, FilterRequest, HostState


class HostWeigher:
    def __init__(self, multiplier: float = 1.0):
        self.multiplier = multiplier

    def raw(self, host: HostState, req: FilterRequest) -> float:
        """The un-normalised weight of ``host`` (bigger is better before the multiplier)."""
        raise NotImplementedError


class RAMWeigher(HostWeigher):
    """Free RAM: a positive multiplier spreads instances, a negative one stacks them."""

    def raw(self, host: HostState, req: FilterRequest) -> float:
        return float(host.free(MEMORY_MB))


class SoftAffinityWeigher(HostWeigher):
    """Members of the request's soft-affinity group already on the host."""

    def raw(self, host: HostState, req: FilterRequest) -> float:
        group = req.group
        return float(group.member_hosts.get(host.host, 0)) if group and group.policy == SOFT_AFFINITY else 0.0


class SoftAntiAffinityWeigher(HostWeigher):
    """Fewer members of the request's soft-anti-affinity group on the host weigh more."""

    def raw(self, host: HostState, req: FilterRequest) -> float:
        group = req.group
        return -float(group.member_hosts.get(host.host, 0)) if group and group.policy == SOFT_ANTI_AFFINITY else 0.0


@dataclass(frozen=True)
class Weighed:
    host: HostState
    weight: float


def weigh(hosts: Sequence[HostState], req: FilterRequest, weighers: Sequence[HostWeigher]) -> list[Weighed]:
    """The hosts, best first (ties keep the order given)."""
    totals = [0.0] * len(hosts)
    for weigher in weighers:
        if weigher.multiplier == 0:
            continue
        values = [weigher.raw(h, req) for h in hosts]
        low, high = (min(values), max(values)) if values else (0.0, 0.0)
        span = high - low
        for i, value in enumerate(values):
            norm = 0.0 if span == 0 else (value - low) / span
            totals[i] += weigher.multiplier * norm
    ranked = sorted(range(len(hosts)), key=lambda i: -totals[i])
    return [Weighed(hosts[i], totals[i]) for i in ranked]
