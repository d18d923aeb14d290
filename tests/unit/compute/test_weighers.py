"""Weighers: normalisation, multipliers, soft (anti-)affinity."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from stratus.compute.messages import FlavorSpec, RequestSpec
from stratus.compute.scheduler.claims import MEMORY_MB, InventoryRecord, resources_for
from stratus.compute.scheduler.filters import FilterRequest, GroupInfo, HostState
from stratus.compute.scheduler.weighers import RAMWeigher, SoftAffinityWeigher, SoftAntiAffinityWeigher, weigh

FLAVOR = FlavorSpec(flavorid="f", name="f", vcpus=1, memory_mb=512, root_gb=1)


def host(name: str, free_mb: int) -> HostState:
    return HostState(name, f"rp-{name}", inventories={MEMORY_MB: InventoryRecord(free_mb)}, used={})


def req(group: GroupInfo | None = None) -> FilterRequest:
    spec = RequestSpec(instance_uuids=["i"], project_id="p", user_id="u", flavor=FLAVOR)
    return FilterRequest(spec, resources_for(FLAVOR), dt.datetime(2026, 1, 1), 60, group)


def names(ranked: list) -> list[str]:  # type: ignore[type-arg]
    return [w.host.host for w in ranked]


def test_ram_spreads_by_default_and_stacks_when_negative() -> None:
    hosts = [host("a", 1024), host("b", 4096), host("c", 2048)]
    assert names(weigh(hosts, req(), [RAMWeigher(1.0)])) == ["b", "c", "a"]
    assert names(weigh(hosts, req(), [RAMWeigher(-1.0)])) == ["a", "c", "b"]


def test_ties_keep_order_and_zero_multiplier_is_ignored() -> None:
    hosts = [host("a", 1024), host("b", 1024)]
    assert names(weigh(hosts, req(), [RAMWeigher(1.0)])) == ["a", "b"]
    assert names(weigh([host("a", 1), host("b", 9)], req(), [RAMWeigher(0.0)])) == ["a", "b"]


def test_soft_affinity_beats_free_ram_when_weighted_more() -> None:
    hosts = [host("a", 1024), host("b", 4096)]
    group = GroupInfo("g", "soft-affinity", {}, Counter({"a": 2}))
    ranked = weigh(hosts, req(group), [RAMWeigher(1.0), SoftAffinityWeigher(2.0), SoftAntiAffinityWeigher(1.0)])
    assert names(ranked) == ["a", "b"]


def test_soft_anti_affinity_prefers_hosts_without_members() -> None:
    hosts = [host("a", 4096), host("b", 1024)]
    group = GroupInfo("g", "soft-anti-affinity", {}, Counter({"a": 1}))
    ranked = weigh(hosts, req(group), [RAMWeigher(1.0), SoftAntiAffinityWeigher(2.0)])
    assert names(ranked) == ["b", "a"]


def test_weights_are_normalised() -> None:
    ranked = weigh([host("a", 0), host("b", 10_000_000)], req(), [RAMWeigher(1.0)])
    assert [w.weight for w in ranked] == [1.0, 0.0]
