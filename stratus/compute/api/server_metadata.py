"""``/v2.1/servers/{id}/metadata``: list, merge, replace, show, set and delete one item."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.compute.api.deps import Context, JsonBody, get_service
from stratus.core.context import RequestContext

router = APIRouter(prefix="/v2.1/servers/{server_id}/metadata")


@router.get("")
def list_metadata(server_id: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    return {"metadata": get_service(request).metadata.get(ctx, server_id)}


@router.post("")
def merge_metadata(
    server_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody
) -> dict[str, Any]:
    return {"metadata": get_service(request).metadata.write(ctx, server_id, body, replace=False)}


@router.put("")
def replace_metadata(
    server_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody
) -> dict[str, Any]:
    return {"metadata": get_service(request).metadata.write(ctx, server_id, body, replace=True)}


@router.get("/{key}")
def show_item(server_id: str, key: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    return {"meta": get_service(request).metadata.get(ctx, server_id, key)}


@router.put("/{key}")
def set_item(
    server_id: str, key: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody
) -> dict[str, Any]:
    return {"meta": get_service(request).metadata.write(ctx, server_id, body, replace=False, key=key)}


@router.delete("/{key}", status_code=204)
def delete_item(server_id: str, key: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).metadata.delete(ctx, server_id, key)
    return Response(status_code=204)
