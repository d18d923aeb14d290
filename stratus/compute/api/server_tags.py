"""``/v2.1/servers/{id}/tags`` (microversion 2.26 and later; 404 before, as Nova answers)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.compute.api.deps import ApiVersion, Context, JsonBody, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.api.views import base_url
from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound

router = APIRouter(prefix="/v2.1/servers/{server_id}/tags")


def _check_version(version: Version) -> None:
    if version < "2.26":
        raise NotFound("The resource could not be found.")


@router.get("")
def list_tags(
    server_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    _check_version(version)
    return {"tags": get_service(request).tags.list(ctx, server_id)}


@router.put("")
def replace_tags(
    server_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> dict[str, Any]:
    _check_version(version)
    return {"tags": get_service(request).tags.replace(ctx, server_id, body)}


@router.delete("", status_code=204)
def delete_tags(
    server_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> Response:
    _check_version(version)
    get_service(request).tags.clear(ctx, server_id)
    return Response(status_code=204)


@router.get("/{tag}", status_code=204)
def check_tag(
    server_id: str, tag: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> Response:
    _check_version(version)
    get_service(request).tags.check(ctx, server_id, tag)
    return Response(status_code=204)


@router.put("/{tag}")
def add_tag(
    server_id: str, tag: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> Response:
    """201 with the tag's Location when it is new, 204 when the server had it already."""
    _check_version(version)
    if not get_service(request).tags.add(ctx, server_id, tag):
        return Response(status_code=204)
    location = f"{base_url(request)}/v2.1/servers/{server_id}/tags/{tag}"
    return Response(status_code=201, headers={"Location": location})


@router.delete("/{tag}", status_code=204)
def delete_tag(
    server_id: str, tag: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> Response:
    _check_version(version)
    get_service(request).tags.remove(ctx, server_id, tag)
    return Response(status_code=204)
