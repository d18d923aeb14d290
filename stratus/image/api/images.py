"""``/v2/images``: create, list, show, JSON-patch update, delete, deactivate/reactivate."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound
from stratus.image.api.deps import Context, JsonBody, PatchBody, get_service

router = APIRouter(prefix="/v2/images")


@router.post("", status_code=201)
def create_image(request: Request, ctx: RequestContext = Context, body: Any = JsonBody) -> JSONResponse:
    image = get_service(request).images.create(ctx, body)
    return JSONResponse(image, status_code=201, headers={"Location": str(request.base_url).rstrip("/") + image["self"]})


@router.get("")
def list_images(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    params = list(request.query_params.multi_items())
    images, more = get_service(request).images.list(ctx, params)
    kept = [(k, v) for k, v in params if k not in ("marker",)]
    doc: dict[str, Any] = {"images": images, "schema": "/v2/schemas/images"}
    doc["first"] = "/v2/images" + (f"?{urlencode(kept)}" if kept else "")
    if more and images:
        page = [(k, v) for k, v in kept if k != "limit"] + [("limit", str(len(images))), ("marker", images[-1]["id"])]
        doc["next"] = f"/v2/images?{urlencode(page)}"
    return doc


@router.api_route("/", methods=["GET", "PATCH", "DELETE"], include_in_schema=False)
def no_image_id(ctx: RequestContext = Context) -> None:
    """``/v2/images/`` names no image: 404, as Glance answers (not a redirect to the list)."""
    raise NotFound("No image ID was given.")


@router.get("/{image_id}")
def show_image(image_id: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    return get_service(request).images.show(ctx, image_id)


@router.patch("/{image_id}")
def update_image(image_id: str, request: Request, ctx: RequestContext = Context, body: Any = PatchBody) -> Any:
    return get_service(request).images.update(ctx, image_id, body)


@router.delete("/{image_id}", status_code=204)
def delete_image(image_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).images.delete(ctx, image_id)
    return Response(status_code=204)


@router.post("/{image_id}/actions/deactivate", status_code=204)
def deactivate(image_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).images.deactivate(ctx, image_id)
    return Response(status_code=204)


@router.post("/{image_id}/actions/reactivate", status_code=204)
def reactivate(image_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).images.reactivate(ctx, image_id)
    return Response(status_code=204)


@router.get("/{image_id}/tasks")
def image_tasks(image_id: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    """The image's import tasks (Glance 2.12). Uploads here are synchronous and there is no task API, so an
    image visible to the caller never has any; one it cannot see is a 404."""
    get_service(request).images.show(ctx, image_id)
    return {"tasks": []}
