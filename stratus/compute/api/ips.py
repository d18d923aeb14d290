"""``/v2.1/servers/{id}/ips``: a server's addresses by network label, as Nova's ``ips`` API shows them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import Context, get_service
from stratus.compute.api.views import addresses
from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound

router = APIRouter(prefix="/v2.1/servers/{server_id}/ips")


def _addresses(request: Request, ctx: RequestContext, server_id: str, rule: str) -> dict[str, list[dict[str, Any]]]:
    service = get_service(request)
    rec = service.servers.show(ctx, server_id)
    service.enforcer.enforce(ctx, f"os_compute_api:ips:{rule}", {"project_id": rec.inst.project_id})
    return addresses(rec.inst.network_info, extended=False)


@router.get("")
def list_ips(server_id: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    return {"addresses": _addresses(request, ctx, server_id, "index")}


@router.get("/{network_label:path}")  # a label (a network name) may hold a "/"
def show_ips(server_id: str, network_label: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    found = _addresses(request, ctx, server_id, "show")
    if network_label not in found:
        raise NotFound("Instance is not a member of specified network")
    return {network_label: found[network_label]}
