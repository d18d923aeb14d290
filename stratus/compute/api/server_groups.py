"""``/v2.1/os-server-groups``: affinity groups (policies before 2.64, policy + rules after)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.compute.api.deps import ApiVersion, Context, JsonBody, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.core.server_groups import GroupView
from stratus.core.context import RequestContext

router = APIRouter(prefix="/v2.1/os-server-groups")


def _group(g: GroupView, version: Version) -> dict[str, Any]:
    body: dict[str, Any] = {"id": g.uuid, "name": g.name, "members": g.members}
    if version >= "2.64":
        body.update({"policy": g.policy, "rules": g.rules})
    else:
        body.update({"policies": [g.policy], "metadata": {}})
    if version >= "2.13":
        body.update({"project_id": g.project_id, "user_id": g.user_id})
    return body


@router.get("")
def list_groups(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    return {"server_groups": [_group(g, version) for g in get_service(request).server_groups.list(ctx, params)]}


@router.post("")
def create_group(
    request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> dict[str, Any]:
    return {"server_group": _group(get_service(request).server_groups.create(ctx, body, version), version)}


@router.get("/{group_id}")
def show_group(
    group_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    return {"server_group": _group(get_service(request).server_groups.show(ctx, group_id), version)}


@router.delete("/{group_id}", status_code=204)
def delete_group(group_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).server_groups.delete(ctx, group_id)
    return Response(status_code=204)
