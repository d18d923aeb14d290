"""``/v2.1/os-availability-zone`` (+ ``/detail`` for admins, with hosts)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import Context, get_service
from stratus.compute.api.views import iso_us
from stratus.core.context import RequestContext

router = APIRouter(prefix="/v2.1/os-availability-zone")


@router.get("")
def list_zones(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    zones = get_service(request).hosts.zones(ctx, detail=False)
    return {
        "availabilityZoneInfo": [{"zoneName": n, "zoneState": {"available": a}, "hosts": None} for n, a, _ in zones]
    }


@router.get("/detail")
def list_zones_detail(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    info = []
    for name, available, members in get_service(request).hosts.zones(ctx, detail=True):
        hosts = {
            s.host: {s.binary: {"available": up, "active": not s.disabled, "updated_at": iso_us(s.last_seen_up)}}
            for s, up in members
        }
        info.append({"zoneName": name, "zoneState": {"available": available}, "hosts": hosts or None})
    return {"availabilityZoneInfo": info}
