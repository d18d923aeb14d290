"""``/v2/images/{id}/tags/{tag}``: add and remove one tag."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from stratus.core.context import RequestContext
from stratus.image.api.deps import Context, get_service

router = APIRouter(prefix="/v2/images/{image_id}/tags")


@router.put("/{tag}", status_code=204)
def add_tag(image_id: str, tag: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).images.add_tag(ctx, image_id, tag)
    return Response(status_code=204)


@router.delete("/{tag}", status_code=204)
def delete_tag(image_id: str, tag: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).images.delete_tag(ctx, image_id, tag)
    return Response(status_code=204)
