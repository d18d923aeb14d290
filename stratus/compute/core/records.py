"""Detached snapshots of servers with what their views need (metadata, fault, groups, host status)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.conf import ComputeConfig
from stratus.core.db import utcnow


@dataclass
class ServerRecord:
    inst: models.Instance
    metadata: dict[str, str] = field(default_factory=dict)
    fault: dict[str, Any] | None = None
    groups: list[str] = field(default_factory=list)
    host_status: str = ""
    admin_pass: str | None = None


def host_state(service: models.ComputeService | None, conf: ComputeConfig, now: dt.datetime | None = None) -> str:
    """The ``host_status`` of a server, as Nova's ``get_instance_host_status`` decides it.

    DOWN only when an admin forced the service down (it was fenced), MAINTENANCE when it is
    disabled, UP while it heartbeats, UNKNOWN when its heartbeat stopped (Nova cannot tell a dead
    host from a cut link), and "" when no compute service is recorded for the host.
    """
    if service is None:
        return ""
    if service.forced_down:
        return "DOWN"
    if service.disabled:
        return "MAINTENANCE"
    return "UP" if is_up(service, conf, now) else "UNKNOWN"


def is_up(service: models.ComputeService, conf: ComputeConfig, now: dt.datetime | None = None) -> bool:
    if service.forced_down or service.last_seen_up is None:
        return False
    return ((now or utcnow()) - service.last_seen_up).total_seconds() <= conf.service_down_time


def load(session: Session, conf: ComputeConfig, instances: list[models.Instance]) -> list[ServerRecord]:
    """Records for ``instances`` in a handful of queries, whatever their number."""
    uuids = [i.uuid for i in instances]
    if not uuids:
        return []
    meta: dict[str, dict[str, str]] = {u: {} for u in uuids}
    for row in session.scalars(
        sa.select(models.InstanceMetadata).where(models.InstanceMetadata.instance_uuid.in_(uuids))
    ):
        meta[row.instance_uuid][row.key] = row.value
    faults: dict[str, dict[str, Any]] = {}
    failed = [i.uuid for i in instances if i.vm_state in ("error", "deleted")]
    if failed:
        query = (
            sa.select(models.InstanceFault)
            .where(models.InstanceFault.instance_uuid.in_(failed))
            .order_by(models.InstanceFault.id)
        )
        for f in session.scalars(query):
            faults[f.instance_uuid] = {
                "code": f.code,
                "message": f.message,
                "details": f.details,
                "created": f.created_at,
            }
    groups: dict[str, list[str]] = {u: [] for u in uuids}
    query = sa.select(models.ServerGroupMember).where(models.ServerGroupMember.instance_uuid.in_(uuids))
    for m in session.scalars(query):
        groups[m.instance_uuid].append(m.group_uuid)
    hosts = {i.host for i in instances if i.host}
    services = {}
    if hosts:
        services = {
            s.host: s
            for s in session.scalars(sa.select(models.ComputeService).where(models.ComputeService.host.in_(hosts)))
        }
    return [
        ServerRecord(
            i,
            meta[i.uuid],
            faults.get(i.uuid),
            groups[i.uuid],
            host_state(services.get(i.host), conf) if i.host else "",
        )
        for i in instances
    ]
