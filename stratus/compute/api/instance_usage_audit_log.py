"""``/v2.1/os-instance_usage_audit_log``: the state of the periodic instance usage audits, by period.

The agents run no usage audit (Nova's ``instance_usage_audit`` off), so every compute host is reported
as not run for the period asked, as Nova reports it when there are no task logs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request

from stratus.compute import models
from stratus.compute.api.deps import Context, get_service
from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest

router = APIRouter(prefix="/v2.1/os-instance_usage_audit_log")


def _month_before(day: dt.datetime) -> dt.datetime:
    return day.replace(year=day.year - 1, month=12) if day.month == 1 else day.replace(month=day.month - 1)


def audit_period(before: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """Nova's last completed (monthly) audit period before ``before``."""
    end = dt.datetime(before.year, before.month, 1)
    if end >= before:
        end = _month_before(end)
    return _month_before(end), end


def _parse(value: str) -> dt.datetime:
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f"):
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    raise BadRequest(f"Invalid timestamp for date {value}")


def _audit(request: Request, ctx: RequestContext, before: dt.datetime) -> dict[str, Any]:
    service = get_service(request)
    service.enforcer.enforce(ctx, "os_compute_api:os-instance-usage-audit-log:list", {"project_id": ctx.project_id})
    begin, end = audit_period(before)
    with service.db.reader() as session:
        hosts = list(
            session.scalars(
                sa.select(models.ComputeService.host)
                .where(models.ComputeService.binary.like("%compute"))
                .order_by(models.ComputeService.host)
            )
        )
    return {
        "hosts_not_run": hosts,
        "log": {},
        "num_hosts": len(hosts),
        "num_hosts_done": 0,
        "num_hosts_not_run": len(hosts),
        "num_hosts_running": 0,
        "overall_status": f"0 of {len(hosts)} hosts done. 0 errors.",
        "period_beginning": str(begin),
        "period_ending": str(end),
        "total_errors": 0,
        "total_instances": 0,
    }


@router.get("")
def list_audit_logs(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    return {"instance_usage_audit_logs": _audit(request, ctx, utcnow())}


@router.get("/{before}")
def show_audit_log(before: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    return {"instance_usage_audit_log": _audit(request, ctx, _parse(before))}
