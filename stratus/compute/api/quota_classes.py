"""``/v2.1/os-quota-class-sets/{id}``: the default quotas (Nova's ``default`` class), shown and updated."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import ApiVersion, Context, JsonBody, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.core.base import require_dict
from stratus.compute.core.quotas import NETWORK_PROXIES
from stratus.core.context import RequestContext

router = APIRouter(prefix="/v2.1/os-quota-class-sets/{class_name}")
INJECTED = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
SERVER_GROUPS = ("server_groups", "server_group_members")


def _shape(values: dict[str, Any], version: Version) -> dict[str, Any]:
    """Nova's quota class view: network proxies until 2.50, server groups from 2.50, no injected files from 2.57."""
    shown = dict(values)
    if version < "2.50":
        for key in SERVER_GROUPS:
            shown.pop(key, None)
    else:
        for key in NETWORK_PROXIES:
            shown.pop(key, None)
    if version >= "2.57":
        for key in INJECTED:
            shown.pop(key, None)
    return shown


@router.get("")
def show_quota_class(
    class_name: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    values = get_service(request).quotas.show_class(ctx, class_name)
    return {"quota_class_set": {"id": class_name, **_shape(values, version)}}


@router.put("")
def update_quota_class(
    class_name: str,
    request: Request,
    ctx: RequestContext = Context,
    body: Any = JsonBody,
    version: Version = ApiVersion,
) -> dict[str, Any]:
    data = dict(require_dict(body, "quota_class_set"))
    values = get_service(request).quotas.update_class(ctx, class_name, data)
    return {"quota_class_set": _shape(values, version)}
