"""Usage of servers over a period (Nova's os-simple-tenant-usage): hours, and vCPU/RAM/disk hours."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from stratus.compute import models
from stratus.compute.core.base import Deps, paginate
from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest

FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d %H:%M:%S.%f")


def parse_time(value: str | None) -> dt.datetime:
    """A period bound as Nova accepts it (naive UTC); none means now."""
    if value is None:
        return utcnow()
    for fmt in FORMATS:
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise BadRequest("Datetime is in invalid format")


def period(params: dict[str, str]) -> tuple[dt.datetime, dt.datetime]:
    start, end = parse_time(params.get("start")), parse_time(params.get("end"))
    if start > end:
        raise BadRequest("Invalid start time. The start time cannot occur after the end time.")
    return start, end


def server_usage(inst: models.Instance, start: dt.datetime, end: dt.datetime, now: dt.datetime) -> dict[str, Any]:
    launched = inst.launched_at or inst.created_at
    ended = inst.terminated_at or inst.deleted_at if inst.deleted else inst.terminated_at
    begin, stop = max(launched, start), min(ended or end, end)
    hours = max((stop - begin).total_seconds(), 0) / 3600.0
    flavor = inst.flavor or {}
    local_gb = int(flavor.get("root_gb", inst.root_gb) or 0) + int(flavor.get("ephemeral_gb", 0) or 0)
    return {
        "instance_id": inst.uuid,
        "name": inst.display_name,
        "hours": hours,
        "memory_mb": inst.memory_mb,
        "local_gb": local_gb,
        "vcpus": inst.vcpus,
        "tenant_id": inst.project_id,
        "flavor": flavor.get("name", ""),
        "started_at": launched.isoformat(),
        "ended_at": ended.isoformat() if ended else None,
        "state": "terminated" if inst.deleted else inst.vm_state,
        "uptime": int(((ended or now) - launched).total_seconds()),
    }


class UsageManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _usages(self, project_id: str | None, start: dt.datetime, end: dt.datetime) -> dict[str, dict[str, Any]]:
        now = utcnow()
        query = sa.select(models.Instance).where(
            sa.func.coalesce(models.Instance.launched_at, models.Instance.created_at) <= end,
            sa.or_(
                sa.func.coalesce(models.Instance.terminated_at, models.Instance.deleted_at).is_(None),
                sa.func.coalesce(models.Instance.terminated_at, models.Instance.deleted_at) >= start,
            ),
        )
        if project_id is not None:
            query = query.where(models.Instance.project_id == project_id)
        query = query.order_by(models.Instance.project_id, models.Instance.created_at, models.Instance.uuid)
        result: dict[str, dict[str, Any]] = {}
        with self.deps.db.reader() as session:
            for inst in session.scalars(query):
                usage = server_usage(inst, start, end, now)
                summary = result.setdefault(
                    inst.project_id,
                    {
                        "tenant_id": inst.project_id,
                        "start": start.isoformat(),
                        "stop": end.isoformat(),
                        "total_hours": 0.0,
                        "total_local_gb_usage": 0.0,
                        "total_memory_mb_usage": 0.0,
                        "total_vcpus_usage": 0.0,
                        "server_usages": [],
                    },
                )
                summary["total_hours"] += usage["hours"]
                summary["total_local_gb_usage"] += usage["local_gb"] * usage["hours"]
                summary["total_memory_mb_usage"] += usage["memory_mb"] * usage["hours"]
                summary["total_vcpus_usage"] += usage["vcpus"] * usage["hours"]
                summary["server_usages"].append(usage)
        return result

    def list(self, ctx: RequestContext, params: dict[str, str]) -> list[dict[str, Any]]:
        self.deps.enforcer.enforce(ctx, "os_compute_api:os-simple-tenant-usage:list", {"project_id": ctx.project_id})
        start, end = period(params)
        detailed = params.get("detailed", "0").lower() in ("1", "true", "yes")
        usages = list(self._usages(None, start, end).values())
        usages = paginate(usages, lambda u: u["tenant_id"], params.get("limit"), params.get("marker"), 1000)
        if not detailed:
            for usage in usages:
                usage.pop("server_usages")
        return usages

    def show(self, ctx: RequestContext, project_id: str, params: dict[str, str]) -> dict[str, Any]:
        self.deps.enforcer.enforce(ctx, "os_compute_api:os-simple-tenant-usage:show", {"project_id": project_id})
        start, end = period(params)
        return self._usages(project_id, start, end).get(project_id, {})
