"""The seven CRUD collections: list (filters, fields, sorting, pagination), create (single and bulk),
show (fields), update and delete, all dispatched to the service's managers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.core.context import RequestContext
from stratus.network.api.deps import Context, JsonBody, get_service, params
from stratus.network.core import listing
from stratus.network.errors import NeutronBadRequest


@dataclass(frozen=True)
class Collection:
    member: str
    """The body key of one item (``security_group``)."""
    plural: str
    """The body key of the list (``security_groups``)."""
    path: str
    """The URL segment (``security-groups``)."""
    manager: str
    """Attribute of the service holding the manager."""
    methods: tuple[str, str, str, str, str] = ("create", "show", "list", "update", "delete")


COLLECTIONS = (
    Collection("network", "networks", "networks", "networks"),
    Collection("subnet", "subnets", "subnets", "subnets"),
    Collection("port", "ports", "ports", "ports"),
    Collection("security_group", "security_groups", "security-groups", "security_groups"),
    Collection(
        "security_group_rule",
        "security_group_rules",
        "security-group-rules",
        "security_groups",
        ("create_rule", "show_rule", "list_rules", "", "delete_rule"),
    ),
    Collection("router", "routers", "routers", "routers"),
    Collection("floatingip", "floatingips", "floatingips", "floating_ips"),
)


def _method(request: Request, coll: Collection, index: int) -> Callable[..., Any]:
    return getattr(getattr(get_service(request), coll.manager), coll.methods[index])  # type: ignore[no-any-return]


def _create(request: Request, ctx: RequestContext, coll: Collection, body: Any) -> Any:
    create = _method(request, coll, 0)
    if isinstance(body, dict) and coll.plural in body and coll.member not in body:
        items = body[coll.plural]
        if not isinstance(items, list) or not items:
            raise NeutronBadRequest(f"Resources required: expected a non-empty list named '{coll.plural}'.")
        made: list[dict[str, Any]] = []
        try:
            for item in items:
                made.append(create(ctx, {coll.member: item}))
        except Exception:
            delete = _method(request, coll, 4)
            for doc in reversed(made):  # bulk creates are all or nothing
                delete(ctx, doc["id"])
            raise
        return {coll.plural: made}
    return {coll.member: create(ctx, body)}


def build_router(coll: Collection) -> APIRouter:
    router = APIRouter(prefix=f"/v2.0/{coll.path}")

    @router.get("")
    def list_items(request: Request, ctx: RequestContext = Context) -> Any:
        query = params(request)
        items = _method(request, coll, 2)(ctx, query)
        limit_max = get_service(request).conf.limit_max
        return listing.query(items, query, collection=coll.plural, path=str(request.url.path), limit_max=limit_max)

    @router.post("", status_code=201)
    def create_item(request: Request, ctx: RequestContext = Context, body: Any = JsonBody) -> Any:
        return _create(request, ctx, coll, body)

    @router.get("/{item_id}")
    def show_item(item_id: str, request: Request, ctx: RequestContext = Context) -> Any:
        doc = _method(request, coll, 1)(ctx, item_id)
        fields = [v for k, v in params(request) if k == "fields"]
        return {coll.member: listing.select_fields(doc, fields)}

    if coll.methods[3]:

        @router.put("/{item_id}")
        def update_item(item_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody) -> Any:
            return {coll.member: _method(request, coll, 3)(ctx, item_id, body)}

    @router.delete("/{item_id}", status_code=204)
    def delete_item(item_id: str, request: Request, ctx: RequestContext = Context) -> Response:
        _method(request, coll, 4)(ctx, item_id)
        return Response(status_code=204)

    return router
