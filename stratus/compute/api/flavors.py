"""``/v2.1/flavors``: list (brief and detail), show, admin create/update/delete, and os-extra_specs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.compute.api import views
from stratus.compute.api.deps import ApiVersion, Context, JsonBody, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.core.base import require_dict
from stratus.core.context import RequestContext

router = APIRouter(prefix="/v2.1/flavors")


def _list(
    request: Request, ctx: RequestContext, params: dict[str, str], version: Version, brief: bool
) -> dict[str, Any]:
    found = get_service(request).flavors.list(ctx, params)
    flavors = [views.flavor(request, f, version, brief=brief) for f in found]
    doc: dict[str, Any] = {"flavors": flavors}
    next_links = views.collection_links(request, "flavors" + ("" if brief else "/detail"), flavors, params.get("limit"))
    if next_links:
        doc["flavors_links"] = next_links
    return doc


@router.get("")
def list_flavors(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    return _list(request, ctx, params, version, brief=True)


@router.get("/detail")
def list_flavors_detail(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    return _list(request, ctx, params, version, brief=False)


@router.get("/{flavor_id}")
def show_flavor(
    flavor_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    return {"flavor": views.flavor(request, get_service(request).flavors.show(ctx, flavor_id), version)}


@router.post("")
def create_flavor(
    request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> dict[str, Any]:
    data = require_dict(body, "flavor")
    created = get_service(request).flavors.create(ctx, data, with_description=version >= "2.55")
    return {"flavor": views.flavor(request, created, version)}


@router.put("/{flavor_id}")
def update_flavor(
    flavor_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> dict[str, Any]:
    if version < "2.55":
        from stratus.core.exceptions import MethodNotAllowed

        raise MethodNotAllowed("Updating a flavor needs microversion 2.55 or later.")
    updated = get_service(request).flavors.update(ctx, flavor_id, require_dict(body, "flavor"))
    return {"flavor": views.flavor(request, updated, version)}


@router.delete("/{flavor_id}", status_code=202)
def delete_flavor(flavor_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).flavors.delete(ctx, flavor_id)
    return Response(status_code=202)


@router.get("/{flavor_id}/os-extra_specs")
def list_extra_specs(flavor_id: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    return {"extra_specs": get_service(request).flavors.extra_specs(ctx, flavor_id)}


@router.post("/{flavor_id}/os-extra_specs")
def create_extra_specs(
    flavor_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody
) -> dict[str, Any]:
    specs = body.get("extra_specs") if isinstance(body, dict) else None
    return {"extra_specs": get_service(request).flavors.set_extra_specs(ctx, flavor_id, specs)}


@router.get("/{flavor_id}/os-extra_specs/{key}")
def show_extra_spec(flavor_id: str, key: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    return get_service(request).flavors.extra_specs(ctx, flavor_id, key)


@router.put("/{flavor_id}/os-extra_specs/{key}")
def update_extra_spec(
    flavor_id: str, key: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody
) -> dict[str, Any]:
    return get_service(request).flavors.set_extra_specs(ctx, flavor_id, body, key)


@router.delete("/{flavor_id}/os-extra_specs/{key}")
def delete_extra_spec(flavor_id: str, key: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).flavors.delete_extra_spec(ctx, flavor_id, key)
    return Response(status_code=200)
