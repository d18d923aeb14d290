"""Network's tables. Only the network service reads or writes them.

IPAM lives in its own table (``ip_allocations``) whose primary key is (network_id, ip_address), and
ports carry a unique ``mac_address``: two concurrent creates can never both win the same address, the
loser's transaction fails with an IntegrityError and is retried (see ``core/retry.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from stratus.core.db import utcnow


class NetworkBase(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: sa.JSON, list[Any]: sa.JSON}


class Stamped:
    """Columns every resource has: timestamps and Neutron's revision number."""

    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    revision_number: Mapped[int] = mapped_column(default=0)


class Network(Stamped, NetworkBase):
    __tablename__ = "networks"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    admin_state_up: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="ACTIVE")
    shared: Mapped[bool] = mapped_column(default=False)
    external: Mapped[bool] = mapped_column(default=False)
    mtu: Mapped[int] = mapped_column(default=1442)
    network_type: Mapped[str] = mapped_column(sa.String(32), default="geneve")
    physical_network: Mapped[str | None] = mapped_column(sa.String(64))
    segmentation_id: Mapped[int | None] = mapped_column()
    port_security_enabled: Mapped[bool] = mapped_column(default=True)
    subnets: Mapped[list[Subnet]] = relationship(order_by="Subnet.created_at", viewonly=True)
    __table_args__ = (sa.UniqueConstraint("network_type", "physical_network", "segmentation_id", name="uq_segment"),)


class Subnet(Stamped, NetworkBase):
    __tablename__ = "subnets"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    network_id: Mapped[str] = mapped_column(sa.ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    ip_version: Mapped[int] = mapped_column(default=4)
    cidr: Mapped[str] = mapped_column(sa.String(64))
    gateway_ip: Mapped[str | None] = mapped_column(sa.String(64))
    enable_dhcp: Mapped[bool] = mapped_column(default=True)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(sa.String(16))
    ipv6_address_mode: Mapped[str | None] = mapped_column(sa.String(16))
    allocation_pools: Mapped[list[Any]] = mapped_column(default=list)
    dns_nameservers: Mapped[list[Any]] = mapped_column(default=list)
    host_routes: Mapped[list[Any]] = mapped_column(default=list)


class Port(Stamped, NetworkBase):
    __tablename__ = "ports"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    network_id: Mapped[str] = mapped_column(sa.ForeignKey("networks.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    mac_address: Mapped[str] = mapped_column(sa.String(32), unique=True)
    admin_state_up: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    device_owner: Mapped[str] = mapped_column(sa.String(255), default="", index=True)
    binding_host_id: Mapped[str] = mapped_column(sa.String(255), default="")
    binding_profile: Mapped[dict[str, Any]] = mapped_column(default=dict)
    binding_vnic_type: Mapped[str] = mapped_column(sa.String(64), default="normal")
    port_security_enabled: Mapped[bool] = mapped_column(default=True)
    allowed_address_pairs: Mapped[list[Any]] = mapped_column(default=list)
    fixed_ips: Mapped[list[IPAllocation]] = relationship(
        lazy="selectin", order_by="IPAllocation.created_at", cascade="all, delete-orphan"
    )
    security_groups: Mapped[list[PortSecurityGroup]] = relationship(lazy="selectin", cascade="all, delete-orphan")


class IPAllocation(NetworkBase):
    __tablename__ = "ip_allocations"
    network_id: Mapped[str] = mapped_column(sa.ForeignKey("networks.id", ondelete="CASCADE"), primary_key=True)
    ip_address: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    subnet_id: Mapped[str] = mapped_column(sa.ForeignKey("subnets.id", ondelete="CASCADE"), index=True)
    port_id: Mapped[str] = mapped_column(sa.ForeignKey("ports.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class SecurityGroup(Stamped, NetworkBase):
    __tablename__ = "security_groups"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    stateful: Mapped[bool] = mapped_column(default=True)
    rules: Mapped[list[SecurityGroupRule]] = relationship(
        order_by="SecurityGroupRule.created_at",
        cascade="all, delete-orphan",
        foreign_keys="SecurityGroupRule.security_group_id",
    )


class DefaultSecurityGroup(NetworkBase):
    """One row per project: the primary key makes creating ``default`` twice impossible."""

    __tablename__ = "default_security_groups"
    project_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(sa.ForeignKey("security_groups.id", ondelete="CASCADE"))


class SecurityGroupRule(Stamped, NetworkBase):
    __tablename__ = "security_group_rules"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(sa.ForeignKey("security_groups.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    direction: Mapped[str] = mapped_column(sa.String(16))
    ethertype: Mapped[str] = mapped_column(sa.String(8))
    protocol: Mapped[str | None] = mapped_column(sa.String(40))
    port_range_min: Mapped[int | None] = mapped_column()
    port_range_max: Mapped[int | None] = mapped_column()
    remote_ip_prefix: Mapped[str | None] = mapped_column(sa.String(64))
    remote_group_id: Mapped[str | None] = mapped_column(
        sa.ForeignKey("security_groups.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(sa.String(255), default="")


class PortSecurityGroup(NetworkBase):
    __tablename__ = "port_security_groups"
    port_id: Mapped[str] = mapped_column(sa.ForeignKey("ports.id", ondelete="CASCADE"), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(
        sa.ForeignKey("security_groups.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class Router(Stamped, NetworkBase):
    __tablename__ = "routers"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    name: Mapped[str] = mapped_column(sa.String(255), default="")
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    admin_state_up: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="ACTIVE")
    gw_port_id: Mapped[str | None] = mapped_column(sa.ForeignKey("ports.id", ondelete="SET NULL"))
    enable_snat: Mapped[bool] = mapped_column(default=True)
    routes: Mapped[list[Any]] = mapped_column(default=list)


class FloatingIP(Stamped, NetworkBase):
    __tablename__ = "floating_ips"
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(sa.String(255), index=True)
    description: Mapped[str] = mapped_column(sa.String(255), default="")
    floating_network_id: Mapped[str] = mapped_column(sa.ForeignKey("networks.id"), index=True)
    floating_port_id: Mapped[str] = mapped_column(sa.ForeignKey("ports.id", ondelete="CASCADE"), unique=True)
    floating_ip_address: Mapped[str] = mapped_column(sa.String(64))
    fixed_port_id: Mapped[str | None] = mapped_column(sa.ForeignKey("ports.id", ondelete="SET NULL"), index=True)
    fixed_ip_address: Mapped[str | None] = mapped_column(sa.String(64))
    router_id: Mapped[str | None] = mapped_column(sa.ForeignKey("routers.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(sa.String(16), default="DOWN")


class Quota(NetworkBase):
    __tablename__ = "quotas"
    project_id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    resource: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    limit: Mapped[int] = mapped_column()
