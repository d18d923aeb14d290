"""Host filters and the 'why no host' explanation."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from stratus.compute.messages import FlavorSpec, ImageSpec, RequestSpec
from stratus.compute.scheduler.claims import DISK_GB, MEMORY_MB, VCPU, InventoryRecord, resources_for
from stratus.compute.scheduler.filters import (
    DEFAULT_FILTERS,
    AvailabilityZoneFilter,
    ComputeFilter,
    FilterRequest,
    GroupInfo,
    HostState,
    ImagePropertiesFilter,
    ResourceFilter,
    ServerGroupFilter,
    explain,
    run_filters,
)

NOW = dt.datetime(2026, 1, 1, 12, 0, 0)
FLAVOR = FlavorSpec(flavorid="f", name="f", vcpus=2, memory_mb=2048, root_gb=10)


def host(name: str, *, memory_mb: int = 8192, used_mb: int = 0, **kw: object) -> HostState:
    inv = {
        VCPU: InventoryRecord(8, 0, 8, 4.0),
        MEMORY_MB: InventoryRecord(memory_mb, 512, memory_mb, 1.0),
        DISK_GB: InventoryRecord(100, 0, 100, 1.0),
    }
    fields: dict = {"last_seen_up": NOW - dt.timedelta(seconds=5), **kw}
    return HostState(host=name, provider_uuid=f"rp-{name}", inventories=inv, used={MEMORY_MB: used_mb}, **fields)


def request(group: GroupInfo | None = None, **spec: object) -> FilterRequest:
    rs = RequestSpec(instance_uuids=["i"], project_id="p", user_id="u", flavor=FLAVOR, **spec)  # type: ignore[arg-type]
    return FilterRequest(rs, resources_for(FLAVOR), NOW, 60.0, group)


def test_capacity_uses_reserved_and_ratio() -> None:
    assert InventoryRecord(8, 0, 8, 4.0).capacity == 32
    assert InventoryRecord(4096, 512, 4096, 1.5).capacity == 5376


def test_compute_filter_disabled_down_forced_down() -> None:
    f = ComputeFilter()
    assert f.reject(host("a"), request()) is None
    assert f.reject(host("a", disabled=True), request()) == "disabled"
    assert f.reject(host("a", last_seen_up=NOW - dt.timedelta(seconds=61)), request()) == "down (no recent heartbeat)"
    assert f.reject(host("a", last_seen_up=None), request()) == "down (no recent heartbeat)"
    assert f.reject(host("a", forced_down=True), request()) == "down (no recent heartbeat)"


def test_resource_filter_names_the_resource() -> None:
    f = ResourceFilter()
    assert f.reject(host("a", memory_mb=2560), request()) is None  # 2560 - 512 reserved = 2048: fits exactly
    assert f.reject(host("a", memory_mb=2560, used_mb=1), request()) == "lacked RAM (need 2048 MB)"
    small_disk = host("a")
    small_disk.used[DISK_GB] = 95
    assert f.reject(small_disk, request()) == "lacked disk (need 10 GB)"


def test_availability_zone_and_image_properties() -> None:
    assert AvailabilityZoneFilter().reject(host("a", availability_zone="z1"), request(availability_zone="z1")) is None
    assert AvailabilityZoneFilter().reject(host("a"), request(availability_zone="z1")) == "not in availability zone z1"
    arm = ImageSpec(id="i", properties={"hw_architecture": "aarch64"})
    assert ImagePropertiesFilter().reject(host("a", cpu_arch="x86_64"), request(image=arm)) == (
        "not of architecture aarch64"
    )
    assert ImagePropertiesFilter().reject(host("a", cpu_arch="aarch64"), request(image=arm)) is None
    kvm = ImageSpec(id="i", properties={"img_hv_type": "kvm"})
    assert ImagePropertiesFilter().reject(host("a"), request(image=kvm)) == "not of hypervisor type kvm"


def test_server_group_policies() -> None:
    f = ServerGroupFilter()
    anti = GroupInfo("g", "anti-affinity", {}, Counter({"a": 1}))
    assert f.reject(host("a"), request(anti)) == "already hosts a member of anti-affinity group g"
    assert f.reject(host("b"), request(anti)) is None
    anti2 = GroupInfo("g", "anti-affinity", {"max_server_per_host": 2}, Counter({"a": 1}))
    assert f.reject(host("a"), request(anti2)) is None
    aff = GroupInfo("g", "affinity", {}, Counter({"a": 2}))
    assert f.reject(host("a"), request(aff)) is None
    assert f.reject(host("b"), request(aff)) == "not the host of affinity group g"
    assert f.reject(host("b"), request(GroupInfo("g", "affinity"))) is None  # first member: anywhere
    assert f.reject(host("a"), request(GroupInfo("g", "soft-anti-affinity", {}, Counter({"a": 3})))) is None


def test_run_filters_and_explain() -> None:
    hosts = [host("a", disabled=True), host("b", memory_mb=1024), host("c", memory_mb=1024), host("d")]
    passed, rejected = run_filters(hosts, request(), DEFAULT_FILTERS)
    assert [h.host for h in passed] == ["d"]
    assert rejected == {"a": "disabled", "b": "lacked RAM (need 2048 MB)", "c": "lacked RAM (need 2048 MB)"}
    assert explain(3, rejected) == ("No valid host: 3 hosts: 2 lacked RAM (need 2048 MB), 1 disabled")
    assert explain(0, {}) == "No valid host: no compute hosts are registered"
    assert explain(1, {"a": "disabled"}) == "No valid host: 1 host: 1 disabled"


def test_requested_host_and_ignore_hosts() -> None:
    passed, rejected = run_filters([host("a"), host("b")], request(requested_host="b"))
    assert [h.host for h in passed] == ["b"] and rejected == {"a": "not the requested host b"}
    passed, rejected = run_filters([host("a"), host("b")], request(ignore_hosts=["a"]))
    assert [h.host for h in passed] == ["b"] and "excluded" in rejected["a"]
