"""``/v2.1/os-hypervisors``: list, detail, show, statistics, and the servers on each."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import ApiVersion, Context, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.core.base import paginate
from stratus.compute.core.hosts import Hypervisor, NotImplementedByDriver
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, NotFound

router = APIRouter(prefix="/v2.1/os-hypervisors")


def _brief(h: Hypervisor, version: Version, with_servers: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": h.uuid if version >= "2.53" else h.id,
        "hypervisor_hostname": h.hostname,
        "state": h.state,
        "status": h.status,
    }
    if with_servers and h.servers:
        body["servers"] = [{"uuid": u, "name": n} for u, n in h.servers]
    return body


def _detail(h: Hypervisor, version: Version, with_servers: bool) -> dict[str, Any]:
    body = _brief(h, version, with_servers)
    service = h.service
    body.update(
        {
            "cpu_info": h.cpu_info if version >= "2.28" else json.dumps(h.cpu_info),
            "current_workload": 0,
            "disk_available_least": h.local_gb - h.local_gb_used,
            "free_disk_gb": h.local_gb - h.local_gb_used,
            "free_ram_mb": h.memory_mb - h.memory_mb_used,
            "host_ip": h.host_ip,
            "hypervisor_type": h.hypervisor_type,
            "hypervisor_version": h.hypervisor_version,
            "local_gb": h.local_gb,
            "local_gb_used": h.local_gb_used,
            "memory_mb": h.memory_mb,
            "memory_mb_used": h.memory_mb_used,
            "running_vms": h.running_vms,
            "vcpus": h.vcpus,
            "vcpus_used": h.vcpus_used,
            "service": {
                "host": h.host,
                "id": (service.uuid if version >= "2.53" else service.id) if service else None,
                "disabled_reason": service.disabled_reason if service else None,
            },
        }
    )
    return body


def _with_servers(params: dict[str, str], version: Version) -> bool:
    value = params.get("with_servers")
    if value is None:
        return False
    if version < "2.53" or value.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise BadRequest(f"Invalid input for query parameters with_servers. Value: {value}.")
    return value.lower() in ("true", "1", "yes")


def _list(
    request: Request, ctx: RequestContext, params: dict[str, str], version: Version, detail: bool
) -> dict[str, Any]:
    with_servers = _with_servers(params, version)
    pattern = params.get("hypervisor_hostname_pattern") if version >= "2.53" else None
    found = get_service(request).hosts.hypervisors(
        ctx, "list-detail" if detail else "list", with_servers=with_servers, pattern=pattern
    )
    if pattern is not None and not found:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    if version >= "2.33":
        key = (lambda h: h.uuid) if version >= "2.53" else (lambda h: str(h.id))
        found = paginate(found, key, params.get("limit"), params.get("marker"), 1000)
    render = _detail if detail else _brief
    return {"hypervisors": [render(h, version, with_servers) for h in found]}


@router.get("")
def list_hypervisors(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    return _list(request, ctx, params, version, detail=False)


@router.get("/detail")
def list_hypervisors_detail(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    return _list(request, ctx, params, version, detail=True)


@router.get("/statistics")
def statistics(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    found = get_service(request).hosts.hypervisors(ctx, "statistics")
    fields = ("local_gb", "local_gb_used", "memory_mb", "memory_mb_used", "running_vms", "vcpus", "vcpus_used")
    stats: dict[str, Any] = {f: sum(getattr(h, f) for h in found) for f in fields}
    stats.update(
        count=len(found),
        current_workload=0,
        free_disk_gb=stats["local_gb"] - stats["local_gb_used"],
        disk_available_least=stats["local_gb"] - stats["local_gb_used"],
        free_ram_mb=stats["memory_mb"] - stats["memory_mb_used"],
    )
    return {"hypervisor_statistics": stats}


@router.get("/{hypervisor_id}")
def show_hypervisor(
    hypervisor_id: str,
    request: Request,
    ctx: RequestContext = Context,
    params: dict[str, str] = Query,
    version: Version = ApiVersion,
) -> dict[str, Any]:
    with_servers = _with_servers(params, version)
    found = get_service(request).hosts.hypervisor(ctx, hypervisor_id, with_servers=with_servers)
    return {"hypervisor": _detail(found, version, with_servers)}


@router.get("/{hypervisor_id}/uptime")
def hypervisor_uptime(
    hypervisor_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    """Nova asks the host's driver for its uptime; the agents here cannot tell it, so 501 as Nova answers then."""
    service = get_service(request)
    service.enforcer.enforce(ctx, "os_compute_api:os-hypervisors:uptime", {"project_id": ctx.project_id})
    service.hosts.hypervisor(ctx, hypervisor_id)
    raise NotImplementedByDriver("Virt driver does not implement host uptime.")


@router.get("/{pattern}/servers")
def hypervisor_servers(
    pattern: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    if version >= "2.53":
        raise NotFound("The resource could not be found.")
    found = get_service(request).hosts.hypervisors(ctx, "servers", with_servers=True, pattern=pattern)
    if not found:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    out = []
    for h in found:
        body = _brief(h, version, False)
        body["servers"] = [{"uuid": u, "name": n} for u, n in h.servers]
        out.append(body)
    return {"hypervisors": out}


@router.get("/{pattern}/search")
def hypervisor_search(
    pattern: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    if version >= "2.53":
        raise NotFound("The resource could not be found.")
    found = get_service(request).hosts.hypervisors(ctx, "list", pattern=pattern)
    if not found:
        raise NotFound(f"No hypervisor matching '{pattern}' could be found.")
    return {"hypervisors": [_brief(h, version, False) for h in found]}
