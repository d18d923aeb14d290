"""Router interface actions, quotas, and the internal port status path used by the host side."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.core.context import RequestContext
from stratus.network.api.deps import Context, JsonBody, get_service
from stratus.network.core.base import authorize
from stratus.network.errors import NeutronBadRequest, not_found

router = APIRouter()


@router.put("/v2.0/routers/{router_id}/add_router_interface")
def add_router_interface(router_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody) -> Any:
    return get_service(request).routers.add_interface(ctx, router_id, body)


@router.put("/v2.0/routers/{router_id}/remove_router_interface")
def remove_router_interface(
    router_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody
) -> Any:
    return get_service(request).routers.remove_interface(ctx, router_id, body)


@router.get("/v2.0/quotas")
def list_quotas(request: Request, ctx: RequestContext = Context) -> Any:
    return get_service(request).quotas.list(ctx)


@router.get("/v2.0/quotas/{project_id}/default")
def default_quotas(project_id: str, request: Request, ctx: RequestContext = Context) -> Any:
    return get_service(request).quotas.defaults(ctx, project_id)


@router.get("/v2.0/quotas/{project_id}/details")
def quota_details(project_id: str, request: Request, ctx: RequestContext = Context) -> Any:
    return get_service(request).quotas.details(ctx, project_id)


@router.get("/v2.0/quotas/{project_id}")
def show_quota(project_id: str, request: Request, ctx: RequestContext = Context) -> Any:
    return get_service(request).quotas.show(ctx, project_id)


@router.put("/v2.0/quotas/{project_id}")
def update_quota(project_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody) -> Any:
    return get_service(request).quotas.update(ctx, project_id, body)


@router.delete("/v2.0/quotas/{project_id}", status_code=204)
def delete_quota(project_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).quotas.delete(ctx, project_id)
    return Response(status_code=204)


@router.put("/internal/ports/{port_id}/status")
def set_port_status(port_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody) -> Any:
    """Admin-only: the host side reports a port ACTIVE or DOWN (the OVN watcher does the same in-process)."""
    service = get_service(request)
    authorize(service.deps, ctx, "set_port_status", {})
    status = body.get("status") if isinstance(body, dict) else None
    if status not in ("ACTIVE", "DOWN", "BUILD", "ERROR"):
        raise NeutronBadRequest("Invalid input: status must be one of ACTIVE, DOWN, BUILD, ERROR.")
    if service.set_port_status(port_id, status) is None:
        raise not_found("Port", port_id)
    return {"port": {"id": port_id, "status": status}}
