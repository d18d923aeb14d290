"""``/v2.1/os-quota-sets/{project_id}``: show, defaults, detail, update, revert to defaults."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.compute.api.deps import ApiVersion, Context, JsonBody, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.core.base import require_dict
from stratus.compute.core.quotas import NETWORK_PROXIES
from stratus.core.context import RequestContext

router = APIRouter(prefix="/v2.1/os-quota-sets/{project_id}")
INJECTED = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")


def _shape(values: dict[str, Any], version: Version) -> dict[str, Any]:
    shown = dict(values)
    if version >= "2.57":
        for key in INJECTED:
            shown.pop(key, None)
    if version >= "2.36":
        for key in NETWORK_PROXIES:
            shown.pop(key, None)
    return shown


@router.get("")
def show_quota(
    project_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    values = get_service(request).quotas.show(ctx, project_id)
    return {"quota_set": {"id": project_id, **_shape(values, version)}}


@router.get("/defaults")
def show_defaults(
    project_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    values = get_service(request).quotas.defaults(ctx, project_id)
    return {"quota_set": {"id": project_id, **_shape(values, version)}}


@router.get("/detail")
def show_detail(
    project_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    values = get_service(request).quotas.show(ctx, project_id, detail=True)
    return {"quota_set": {"id": project_id, **_shape(values, version)}}


@router.put("")
def update_quota(
    project_id: str,
    request: Request,
    ctx: RequestContext = Context,
    body: Any = JsonBody,
    version: Version = ApiVersion,
) -> dict[str, Any]:
    data = dict(require_dict(body, "quota_set"))
    data.pop("id", None)
    values = get_service(request).quotas.update(ctx, project_id, data)
    return {"quota_set": _shape(values, version)}


@router.delete("", status_code=202)
def revert_quota(project_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).quotas.delete(ctx, project_id)
    return Response(status_code=202)
