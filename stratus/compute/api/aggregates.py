"""``/v2.1/os-aggregates``: host aggregates (admin only), as Nova's API shows them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.compute.api.deps import ApiVersion, Context, JsonBody, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.api.views import iso_us
from stratus.compute.core.aggregates import AggregateView
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest

router = APIRouter(prefix="/v2.1/os-aggregates")


def _aggregate(view: AggregateView, version: Version, *, with_members: bool = True) -> dict[str, Any]:
    row = view.row
    body: dict[str, Any] = {
        "id": row.id,
        "name": row.name,
        "availability_zone": view.availability_zone,
        "created_at": iso_us(row.created_at),
        "updated_at": iso_us(row.updated_at),
        "deleted_at": None,
        "deleted": False,
    }
    if with_members:  # Nova's create answer leaves both out
        body["hosts"] = view.hosts
        body["metadata"] = view.metadata
    if version >= "2.41":
        body["uuid"] = row.uuid
    return body


@router.get("")
def list_aggregates(request: Request, ctx: RequestContext = Context, version: Version = ApiVersion) -> dict[str, Any]:
    return {"aggregates": [_aggregate(v, version) for v in get_service(request).aggregates.list(ctx)]}


@router.post("")
def create_aggregate(
    request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> dict[str, Any]:
    view = get_service(request).aggregates.create(ctx, body)
    return {"aggregate": _aggregate(view, version, with_members=False)}


@router.get("/{aggregate_id}")
def show_aggregate(
    aggregate_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    return {"aggregate": _aggregate(get_service(request).aggregates.show(ctx, aggregate_id), version)}


@router.put("/{aggregate_id}")
def update_aggregate(
    aggregate_id: str,
    request: Request,
    ctx: RequestContext = Context,
    body: Any = JsonBody,
    version: Version = ApiVersion,
) -> dict[str, Any]:
    return {"aggregate": _aggregate(get_service(request).aggregates.update(ctx, aggregate_id, body), version)}


@router.delete("/{aggregate_id}")
def delete_aggregate(aggregate_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    """200 with an empty body, as Nova answers."""
    get_service(request).aggregates.delete(ctx, aggregate_id)
    return Response(status_code=200)


@router.post("/{aggregate_id}/action")
def aggregate_action(
    aggregate_id: str,
    request: Request,
    ctx: RequestContext = Context,
    body: Any = JsonBody,
    version: Version = ApiVersion,
) -> dict[str, Any]:
    """``add_host`` / ``remove_host`` ({"host": name}) and ``set_metadata`` ({"metadata": {...}})."""
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("Malformed request body: an aggregate action has exactly one key, the action.")
    ((action, args),) = body.items()
    manager = get_service(request).aggregates
    if action in ("add_host", "remove_host"):
        if not isinstance(args, dict) or set(args) != {"host"}:
            raise BadRequest(f"Invalid input for field/attribute {action}. 'host' is a required property")
        change = manager.add_host if action == "add_host" else manager.remove_host
        view = change(ctx, aggregate_id, args["host"])
    elif action == "set_metadata":
        view = manager.set_metadata(ctx, aggregate_id, args)
    else:
        raise BadRequest(f"There is no such action: {action}")
    return {"aggregate": _aggregate(view, version)}
