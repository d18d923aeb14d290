"""``/v2.1/os-simple-tenant-usage``: server hours of every project (admin) or of one project."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api import views
from stratus.compute.api.deps import ApiVersion, Context, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.core.usage import UsageManager
from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound

router = APIRouter(prefix="/v2.1/os-simple-tenant-usage")


def _manager(request: Request) -> UsageManager:
    return UsageManager(get_service(request).deps)


@router.get("")
def list_usages(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    if version < "2.40":
        params = {k: v for k, v in params.items() if k not in ("limit", "marker")}
    usages = _manager(request).list(ctx, params)
    doc: dict[str, Any] = {"tenant_usages": usages}
    if version >= "2.40":
        next_links = views.collection_links(
            request, "os-simple-tenant-usage", usages, params.get("limit"), key="tenant_id"
        )
        if next_links:
            doc["tenant_usages_links"] = next_links
    return doc


@router.get("/")
def show_usage_without_project(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    """``/os-simple-tenant-usage/`` names no project: 404 (not a redirect to the list)."""
    raise NotFound("The resource could not be found.")


@router.get("/{project_id}")
def show_usage(
    project_id: str,
    request: Request,
    ctx: RequestContext = Context,
    params: dict[str, str] = Query,
    version: Version = ApiVersion,
) -> dict[str, Any]:
    if version < "2.40":
        params = {k: v for k, v in params.items() if k not in ("limit", "marker")}
    return {"tenant_usage": _manager(request).show(ctx, project_id, params)}
