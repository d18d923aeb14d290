"""Private flavors' access lists: ``os-flavor-access`` and the add/removeTenantAccess actions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import Context, JsonBody, get_service
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest

router = APIRouter(prefix="/v2.1/flavors/{flavor_id}")


def _doc(flavor_id: str, projects: list[str]) -> dict[str, Any]:
    return {"flavor_access": [{"flavor_id": flavor_id, "tenant_id": p} for p in projects]}


@router.get("/os-flavor-access")
def list_access(flavor_id: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    return _doc(flavor_id, get_service(request).flavors.access_list(ctx, flavor_id))


@router.post("/action")
def flavor_action(
    flavor_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody
) -> dict[str, Any]:
    if not isinstance(body, dict) or len(body) != 1:
        raise BadRequest("Malformed request body: an action body has exactly one key, the action.")
    ((name, args),) = body.items()
    if name not in ("addTenantAccess", "removeTenantAccess"):
        raise BadRequest(f"There is no such action: {name}")
    if not isinstance(args, dict) or "tenant" not in args:
        raise BadRequest(f"Invalid input for field/attribute {name}. 'tenant' is a required property")
    projects = get_service(request).flavors.change_access(ctx, flavor_id, args["tenant"], add=name == "addTenantAccess")
    return _doc(flavor_id, projects)
