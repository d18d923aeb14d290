"""Compute's configuration: ``[compute]`` (API), ``[compute_scheduler]`` and ``[compute_agent]`` (workers)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from stratus.core.config import Config, Section


class ComputeConfig(Section):
    port: int = Field(8774, description="Port of the Compute v2.1 API.")
    image_url: str = Field("http://127.0.0.1:9292", description="Image API root used to check image refs.")
    network_url: str | None = Field(
        None, description="Networking API root; unset means servers get no ports (no network service)."
    )
    metadata_port: int = Field(8775, description="Port of the metadata API the metadata proxies forward to.")
    default_availability_zone: str = Field("nova", description="Zone of hosts that do not name one.")
    service_down_time: int = Field(60, ge=1, description="Seconds without a heartbeat before a host is down.")
    max_limit: int = Field(1000, ge=1, description="Largest page size of server lists.")
    quota_instances: int = Field(10, ge=-1, description="Default servers per project (-1: unlimited).")
    quota_cores: int = Field(20, ge=-1, description="Default vCPUs per project.")
    quota_ram: int = Field(51200, ge=-1, description="Default MiB of RAM per project.")
    quota_key_pairs: int = Field(100, ge=-1, description="Default key pairs per user.")
    quota_server_groups: int = Field(10, ge=-1, description="Default server groups per project.")
    quota_server_group_members: int = Field(10, ge=-1, description="Default servers per server group.")
    quota_metadata_items: int = Field(128, ge=-1, description="Default metadata items per server.")
    quota_injected_files: int = Field(5, ge=-1, description="Default injected files (shown before 2.57).")
    quota_injected_file_content_bytes: int = Field(10240, ge=-1, description="Default injected file size.")
    quota_injected_file_path_bytes: int = Field(255, ge=-1, description="Default injected file path length.")


def load(config: Config) -> ComputeConfig:
    return config.section("compute", ComputeConfig)


class SchedulerConfig(Section):
    """[compute_scheduler]: placement accounting, filters and weighers (run by the conductor)."""

    conductor_workers: int = Field(8, ge=1, description="Threads serving the conductor topic in this process.")
    service_down_time: float | None = Field(
        None, gt=0, description="Seconds without a heartbeat after which a host is down (default: [compute]'s)."
    )
    max_attempts: int = Field(3, ge=1, description="Hosts tried for one build (first choice plus alternates).")
    host_subset_size: int = Field(1, ge=1, description="Pick at random among this many best-weighed hosts.")
    ram_weight_multiplier: float = Field(
        1.0, description="Weight of free RAM: positive spreads instances, negative stacks them."
    )
    soft_affinity_weight_multiplier: float = Field(1.0, ge=0, description="Pull toward hosts of a soft-affinity group.")
    soft_anti_affinity_weight_multiplier: float = Field(
        1.0, ge=0, description="Push away from hosts of a soft-anti-affinity group."
    )
    cpu_allocation_ratio: float = Field(4.0, gt=0, description="VCPU overcommit.")
    ram_allocation_ratio: float = Field(1.0, gt=0, description="MEMORY_MB overcommit.")
    disk_allocation_ratio: float = Field(1.0, gt=0, description="DISK_GB overcommit.")
    reserved_host_cpus: int = Field(0, ge=0, description="VCPUs kept for the host itself.")
    reserved_host_memory_mb: int = Field(512, ge=0, description="Memory kept for the host itself.")
    reserved_host_disk_gb: int = Field(0, ge=0, description="Disk kept for the host itself.")


class AgentConfig(Section):
    """[compute_agent]: the agents this process runs and how they report."""

    driver: str = Field(
        "auto",
        description="Hypervisor driver (entry point in group stratus.compute.virt); auto: libvirt where libvirtd "
        "and libvirt-python are installed, else fake.",
    )
    libvirt_daemon: Literal["private", "system"] = Field(
        "private",
        description="With an empty libvirt_uri, the all-in-one starts its own libvirtd under the state directory "
        "(private) or uses/starts the machine's (system).",
    )
    fake_hosts: int = Field(1, ge=0, description="In-process agents to run; 0 on a controller-only node.")
    host_prefix: str = Field(
        "", description="Agent host names: '<prefix><i>' when set, else this host's name (fake-host-<i> if many)."
    )
    availability_zone: str = Field("nova", description="Zone the agents report.")
    heartbeat_interval: float = Field(10.0, gt=0, description="Seconds between heartbeats.")
    resource_report_interval: float = Field(60.0, gt=0, description="Seconds between resource reports.")
    sync_power_state_interval: float = Field(600.0, gt=0, description="Seconds between power state reconciles.")
    agent_workers: int = Field(4, ge=1, description="Threads serving each agent's topic.")
    fake_vcpus: int = Field(16, ge=1, description="Size of each fake host: vcpus.")
    fake_memory_mb: int = Field(32768, ge=1, description="Size of each fake host: memory.")
    fake_disk_gb: int = Field(500, ge=1, description="Size of each fake host: disk.")
    libvirt_uri: str = Field("", description="libvirt connection URI for driver 'libvirt' ('' = qemu:///system).")
    libvirt_virt_type: str = Field(
        "auto", description="auto (KVM only where a probe guest really runs, else QEMU TCG), kvm or qemu."
    )
    start_guests_on_host_boot: bool = Field(
        True, description="After a host reboot, start again the guests that were running (libvirt driver)."
    )
    image_url: str | None = Field(
        None, description="Image API root for snapshots and downloads (default: [compute]'s)."
    )
    boot_id_file: str = Field(
        "",
        description="File whose change means the host rebooted (default the kernel's boot_id; the all-in-one's "
        "private libvirtd writes its own at each start).",
    )
    vif_plugging_timeout: float = Field(
        60.0, gt=0, description="Seconds a build waits for network-vif-plugged of every port before it fails."
    )
    libvirt_listen_address: str = Field(
        "",
        description="Live migration: the private libvirtd also listens on TCP (no auth) at this address, and QEMU "
        "takes incoming migrations there. Only ever an address of an isolated network (the test bed's underlay); "
        "'' (default): no TCP listener, and this host cannot take part in live migrations.",
    )
    live_migration_uri: str = Field(
        "qemu+tcp://%s/system",
        description="libvirt URI of a live migration's destination; %s is the destination's libvirt_listen_address.",
    )
    live_migration_timeout: float = Field(
        600.0, gt=0, description="Seconds a live migration may take before it is aborted (the guest stays put)."
    )


def scheduler_config(config: Config) -> SchedulerConfig:
    """[compute_scheduler], with options shared with the API filled in from [compute]."""
    conf = config.section("compute_scheduler", SchedulerConfig)
    if conf.service_down_time is None:
        conf = conf.model_copy(update={"service_down_time": float(load(config).service_down_time)})
    return conf


def agent_config(config: Config) -> AgentConfig:
    """[compute_agent], with options shared with the API filled in from [compute]."""
    conf = config.section("compute_agent", AgentConfig)
    if conf.image_url is None:
        conf = conf.model_copy(update={"image_url": load(config).image_url})
    return conf


def resolve_driver(name: str) -> str:
    """``auto`` becomes ``libvirt`` where libvirtd and libvirt-python are installed, else ``fake``."""
    if name != "auto":
        return name
    import importlib.util
    import shutil

    has_libvirt = shutil.which("libvirtd") is not None and importlib.util.find_spec("libvirt") is not None
    return "libvirt" if has_libvirt else "fake"
