"""``/v2/images/{id}/members``: share an image with projects, accept or reject a share."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.core.context import RequestContext
from stratus.image.api.deps import Context, JsonBody, get_service

router = APIRouter(prefix="/v2/images/{image_id}/members")


@router.post("")
def add_member(image_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody) -> Any:
    return get_service(request).members.add(ctx, image_id, body)


@router.get("")
def list_members(image_id: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    members = get_service(request).members.list(ctx, image_id)
    return {"members": members, "schema": "/v2/schemas/members"}


@router.get("/{member_id}")
def show_member(image_id: str, member_id: str, request: Request, ctx: RequestContext = Context) -> Any:
    return get_service(request).members.show(ctx, image_id, member_id)


@router.put("/{member_id}")
def update_member(
    image_id: str, member_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody
) -> Any:
    return get_service(request).members.update(ctx, image_id, member_id, body)


@router.delete("/{member_id}", status_code=204)
def delete_member(image_id: str, member_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).members.delete(ctx, image_id, member_id)
    return Response(status_code=204)
