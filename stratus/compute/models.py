"""Compute's tables. Only the compute service's controller side reads or writes them.

Hosts never touch these tables: agents report over the bus to the conductor (see
``conductor.py``), which writes here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from stratus.core.db import utcnow


def new_uuid() -> str:
    return str(uuid.uuid4())


class ComputeBase(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: sa.JSON, list[Any]: sa.JSON}


class Flavor(ComputeBase):
    __tablename__ = "flavor"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    flavorid: Mapped[str] = mapped_column(sa.String(255), unique=True)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    vcpus: Mapped[int]
    memory_mb: Mapped[int]
    root_gb: Mapped[int] = mapped_column(default=0)
    ephemeral_gb: Mapped[int] = mapped_column(default=0)
    swap: Mapped[int] = mapped_column(default=0)
    rxtx_factor: Mapped[float] = mapped_column(default=1.0)
    is_public: Mapped[bool] = mapped_column(default=True)
    disabled: Mapped[bool] = mapped_column(default=False)
    description: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None]


class FlavorExtraSpec(ComputeBase):
    __tablename__ = "flavor_extra_spec"
    flavor_id: Mapped[int] = mapped_column(sa.ForeignKey("flavor.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class FlavorProject(ComputeBase):
    """Access list of a private flavor."""

    __tablename__ = "flavor_project"
    flavor_id: Mapped[int] = mapped_column(sa.ForeignKey("flavor.id", ondelete="CASCADE"), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)


class KeyPair(ComputeBase):
    __tablename__ = "key_pair"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uq_key_pair_user_name"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    fingerprint: Mapped[str] = mapped_column(sa.String(255))
    public_key: Mapped[str] = mapped_column(sa.Text)
    type: Mapped[str] = mapped_column(sa.String(16), default="ssh")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Instance(ComputeBase):
    """A server. ``vm_state``/``task_state``/``power_state`` as Nova exposes them."""

    __tablename__ = "instance"
    uuid: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    display_name: Mapped[str] = mapped_column(sa.String(255), index=True)
    display_description: Mapped[str | None] = mapped_column(sa.Text)
    hostname: Mapped[str] = mapped_column(sa.String(255), default="")
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(255))
    image_ref: Mapped[str] = mapped_column(sa.String(255), default="")
    flavor: Mapped[dict[str, Any]] = mapped_column(default=dict)  # snapshot: id name vcpus ram disk ... extra_specs
    old_flavor: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    new_flavor: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    vcpus: Mapped[int] = mapped_column(default=0)
    memory_mb: Mapped[int] = mapped_column(default=0)
    root_gb: Mapped[int] = mapped_column(default=0)
    vm_state: Mapped[str] = mapped_column(sa.String(255), default="building", index=True)
    task_state: Mapped[str | None] = mapped_column(sa.String(255))
    power_state: Mapped[int] = mapped_column(default=0)
    host: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    node: Mapped[str | None] = mapped_column(sa.String(255))
    availability_zone: Mapped[str | None] = mapped_column(sa.String(255))
    key_name: Mapped[str | None] = mapped_column(sa.String(255))
    key_data: Mapped[str | None] = mapped_column(sa.Text)
    user_data: Mapped[str | None] = mapped_column(sa.Text)
    config_drive: Mapped[str] = mapped_column(sa.String(255), default="")
    access_ip_v4: Mapped[str | None] = mapped_column(sa.String(39))
    access_ip_v6: Mapped[str | None] = mapped_column(sa.String(39))
    locked: Mapped[bool] = mapped_column(default=False)
    locked_by: Mapped[str | None] = mapped_column(sa.String(16))  # "admin" or "owner"
    locked_reason: Mapped[str | None] = mapped_column(sa.Text)
    reservation_id: Mapped[str] = mapped_column(sa.String(255), default="")
    launch_index: Mapped[int] = mapped_column(default=0)
    progress: Mapped[int] = mapped_column(default=0)
    network_info: Mapped[list[Any]] = mapped_column(default=list)  # ports with their addresses, as the API shows
    requested_networks: Mapped[Any] = mapped_column(sa.JSON, default=None)  # "none" | "auto" | [{uuid|port|fixed_ip}]
    security_groups: Mapped[list[Any]] = mapped_column(default=list)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    launched_at: Mapped[dt.datetime | None]
    terminated_at: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)
    deleted_at: Mapped[dt.datetime | None]
    deleted: Mapped[bool] = mapped_column(default=False, index=True)  # kept for instance actions and changes-since


class InstanceMetadata(ComputeBase):
    __tablename__ = "instance_metadata"
    instance_uuid: Mapped[str] = mapped_column(sa.ForeignKey("instance.uuid", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))


class InstanceFault(ComputeBase):
    __tablename__ = "instance_fault"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    instance_uuid: Mapped[str] = mapped_column(sa.ForeignKey("instance.uuid", ondelete="CASCADE"), index=True)
    code: Mapped[int] = mapped_column(default=500)
    message: Mapped[str] = mapped_column(sa.String(255))
    details: Mapped[str | None] = mapped_column(sa.Text)
    host: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class InstanceAction(ComputeBase):
    __tablename__ = "instance_action"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    action: Mapped[str] = mapped_column(sa.String(255))
    instance_uuid: Mapped[str] = mapped_column(sa.ForeignKey("instance.uuid", ondelete="CASCADE"), index=True)
    request_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(255))
    project_id: Mapped[str] = mapped_column(sa.String(255))
    start_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finish_time: Mapped[dt.datetime | None]
    message: Mapped[str | None] = mapped_column(sa.String(255))
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class InstanceActionEvent(ComputeBase):
    __tablename__ = "instance_action_event"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("instance_action.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(sa.String(255))
    start_time: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finish_time: Mapped[dt.datetime | None]
    result: Mapped[str | None] = mapped_column(sa.String(255))  # Success | Error
    traceback: Mapped[str | None] = mapped_column(sa.Text)
    host: Mapped[str | None] = mapped_column(sa.String(255))


class ComputeService(ComputeBase):
    """A compute host's agent as ``os-services`` shows it; ``last_seen_up`` is its heartbeat."""

    __tablename__ = "compute_service"
    __table_args__ = (sa.UniqueConstraint("host", "binary", name="uq_service_host_binary"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    host: Mapped[str] = mapped_column(sa.String(255))
    binary: Mapped[str] = mapped_column(sa.String(255), default="nova-compute")
    topic: Mapped[str] = mapped_column(sa.String(255), default="compute")
    availability_zone: Mapped[str] = mapped_column(sa.String(255), default="nova")
    disabled: Mapped[bool] = mapped_column(default=False)
    disabled_reason: Mapped[str | None] = mapped_column(sa.String(255))
    forced_down: Mapped[bool] = mapped_column(default=False)
    last_seen_up: Mapped[dt.datetime | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None]


class ResourceProvider(ComputeBase):
    """A compute node, placement-style. ``generation`` bumps on every inventory/allocation change."""

    __tablename__ = "resource_provider"
    uuid: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)  # hypervisor_hostname
    host: Mapped[str] = mapped_column(sa.String(255), index=True)
    generation: Mapped[int] = mapped_column(default=0)
    hypervisor_type: Mapped[str] = mapped_column(sa.String(255), default="fake")
    hypervisor_version: Mapped[int] = mapped_column(default=1000)
    host_ip: Mapped[str | None] = mapped_column(sa.String(39))
    cpu_info: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None]


class Inventory(ComputeBase):
    __tablename__ = "inventory"
    provider_uuid: Mapped[str] = mapped_column(
        sa.ForeignKey("resource_provider.uuid", ondelete="CASCADE"), primary_key=True
    )
    resource_class: Mapped[str] = mapped_column(sa.String(255), primary_key=True)  # VCPU MEMORY_MB DISK_GB
    total: Mapped[int]
    reserved: Mapped[int] = mapped_column(default=0)
    min_unit: Mapped[int] = mapped_column(default=1)
    max_unit: Mapped[int]
    step_size: Mapped[int] = mapped_column(default=1)
    allocation_ratio: Mapped[float] = mapped_column(default=1.0)


class Allocation(ComputeBase):
    """Resources a consumer (an instance, or a migration) holds on a provider."""

    __tablename__ = "allocation"
    provider_uuid: Mapped[str] = mapped_column(
        sa.ForeignKey("resource_provider.uuid", ondelete="CASCADE"), primary_key=True
    )
    consumer_uuid: Mapped[str] = mapped_column(sa.String(36), primary_key=True, index=True)
    resource_class: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    used: Mapped[int]


class Quota(ComputeBase):
    """A per-project limit overriding the configured default."""

    __tablename__ = "quota"
    project_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    hard_limit: Mapped[int]


class ProjectLock(ComputeBase):
    """One row per project, locked (SELECT ... FOR UPDATE / SQLite's write lock) around quota checks."""

    __tablename__ = "project_lock"
    project_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    counter: Mapped[int] = mapped_column(default=0)


class ServerGroup(ComputeBase):
    __tablename__ = "server_group"
    uuid: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_uuid)
    name: Mapped[str] = mapped_column(sa.String(255))
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    user_id: Mapped[str] = mapped_column(sa.String(255))
    policy: Mapped[str] = mapped_column(sa.String(255))  # affinity anti-affinity soft-affinity soft-anti-affinity
    rules: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ServerGroupMember(ComputeBase):
    __tablename__ = "server_group_member"
    group_uuid: Mapped[str] = mapped_column(sa.ForeignKey("server_group.uuid", ondelete="CASCADE"), primary_key=True)
    instance_uuid: Mapped[str] = mapped_column(sa.String(36), primary_key=True, index=True)


class Migration(ComputeBase):
    """A move of a server between hosts, as ``os-migrations`` shows it (Nova's ``migrations`` table).

    ``migration_type``: migration (cold, same flavor), resize, evacuation. ``status`` follows Nova:
    pre-migrating, migrating, finished (VERIFY_RESIZE), confirming/confirmed, reverting/reverted, error;
    evacuations go accepted, pre-migrating, done (rebuilt elsewhere), completed (the source host
    dropped its copy), or failed/error.
    """

    __tablename__ = "migration"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    instance_uuid: Mapped[str] = mapped_column(sa.String(36), index=True)
    migration_type: Mapped[str] = mapped_column(sa.String(32))
    status: Mapped[str] = mapped_column(sa.String(32), index=True)
    source_compute: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    source_node: Mapped[str | None] = mapped_column(sa.String(255))
    dest_compute: Mapped[str | None] = mapped_column(sa.String(255), index=True)
    dest_node: Mapped[str | None] = mapped_column(sa.String(255))
    dest_host: Mapped[str | None] = mapped_column(sa.String(39))
    old_instance_type_id: Mapped[int | None]
    new_instance_type_id: Mapped[int | None]
    project_id: Mapped[str | None] = mapped_column(sa.String(255))
    user_id: Mapped[str | None] = mapped_column(sa.String(255))
    hidden: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[dt.datetime | None] = mapped_column(onupdate=utcnow)


class Aggregate(ComputeBase):
    """A host aggregate (``os-aggregates``); its ``availability_zone`` metadata names its hosts' zone."""

    __tablename__ = "aggregate"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime | None]


class AggregateHost(ComputeBase):
    __tablename__ = "aggregate_host"
    aggregate_id: Mapped[int] = mapped_column(sa.ForeignKey("aggregate.id", ondelete="CASCADE"), primary_key=True)
    host: Mapped[str] = mapped_column(sa.String(255), primary_key=True)


class AggregateMetadata(ComputeBase):
    __tablename__ = "aggregate_metadata"
    aggregate_id: Mapped[int] = mapped_column(sa.ForeignKey("aggregate.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(255))
