"""Typed messages between the compute API, conductor, scheduler, agents and virt drivers.

They cross the bus as JSON (``to_dict``/``from_dict``); drivers get and return these, never ORM
rows or HTTP requests.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T", bound="Message")

# power_state values as Nova exposes them in OS-EXT-STS:power_state
NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED = 0, 1, 3, 4, 6, 7


class Message:
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)  # type: ignore[call-overload,no-any-return]

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        kwargs: dict[str, Any] = {}
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name not in data:
                continue
            value = data[f.name]
            nested = _NESTED.get((cls.__name__, f.name))
            if nested is not None and value is not None:
                value = [nested.from_dict(v) for v in value] if isinstance(value, list) else nested.from_dict(value)
            kwargs[f.name] = value
        return cls(**kwargs)


@dataclass
class FlavorSpec(Message):
    flavorid: str
    name: str
    vcpus: int
    memory_mb: int
    root_gb: int
    ephemeral_gb: int = 0
    swap: int = 0
    extra_specs: dict[str, str] = field(default_factory=dict)


@dataclass
class ImageSpec(Message):
    id: str
    name: str = ""
    disk_format: str | None = None
    container_format: str | None = None
    size: int | None = None
    virtual_size: int | None = None
    checksum: str | None = None
    os_hash_algo: str | None = None
    os_hash_value: str | None = None
    min_disk: int = 0
    min_ram: int = 0
    properties: dict[str, Any] = field(default_factory=dict)


def tap_devname(port_id: str) -> str:
    """The host tap of a port when none is given: 'tap' + 11 characters of its id (fits IFNAMSIZ, as Nova)."""
    return f"tap{port_id[:11]}"


@dataclass
class VifSpec(Message):
    """A port to plug (the conductor fills these from the network API when it binds the ports).

    ``vif_type`` "ovs": the network agent plugs a tap named ``devname`` into the integration bridge and
    the guest uses it as is. ``active``: the port was already ACTIVE, so no ``network-vif-plugged`` comes.
    """

    port_id: str
    network_id: str
    mac_address: str
    fixed_ips: list[dict[str, Any]] = field(default_factory=list)
    mtu: int = 1442
    vif_type: str = "ovs"
    devname: str = ""
    active: bool = False


@dataclass
class InstanceSpec(Message):
    uuid: str
    name: str
    hostname: str
    project_id: str
    user_id: str
    flavor: FlavorSpec
    image: ImageSpec | None = None
    user_data: str | None = None
    key_data: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    vifs: list[VifSpec] = field(default_factory=list)
    availability_zone: str | None = None


@dataclass
class HostResources(Message):
    """What a host offers; the agent reports it and the scheduler turns it into inventories."""

    hypervisor_hostname: str
    vcpus: int
    memory_mb: int
    disk_gb: int
    hypervisor_type: str = "fake"
    hypervisor_version: int = 1000
    host_ip: str | None = None
    cpu_info: dict[str, Any] = field(default_factory=dict)


@dataclass
class InstanceInfo(Message):
    """A driver's view of one guest."""

    uuid: str
    power_state: int


@dataclass
class RequestSpec(Message):
    """What the scheduler needs to place one or more instances of one request."""

    instance_uuids: list[str]
    project_id: str
    user_id: str
    flavor: FlavorSpec
    image: ImageSpec | None = None
    availability_zone: str | None = None
    requested_host: str | None = None
    server_group_uuid: str | None = None
    ignore_hosts: list[str] = field(default_factory=list)


_NESTED: dict[tuple[str, str], type[Message]] = {
    ("InstanceSpec", "flavor"): FlavorSpec,
    ("InstanceSpec", "image"): ImageSpec,
    ("InstanceSpec", "vifs"): VifSpec,
    ("RequestSpec", "flavor"): FlavorSpec,
    ("RequestSpec", "image"): ImageSpec,
}
