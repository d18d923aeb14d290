"""``/v2.1/servers``: create, list (brief and detail), show, update, delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from stratus.compute.api import views
from stratus.compute.api.deps import ApiVersion, Context, JsonBody, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.core.hosts import NotImplementedByDriver
from stratus.compute.core.records import ServerRecord
from stratus.core.context import RequestContext

router = APIRouter(prefix="/v2.1/servers")


def render(
    request: Request,
    ctx: RequestContext,
    rec: ServerRecord,
    version: Version,
    *,
    show: bool = False,
    full: bool = True,
) -> dict[str, Any]:
    enforcer = get_service(request).enforcer
    admin = enforcer.authorize(ctx, "os_compute_api:os-extended-server-attributes")
    host_status = enforcer.authorize(ctx, "os_compute_api:servers:show:host_status")
    return views.server_detail(request, ctx, rec, version, show=show, admin=admin, host_status=host_status, full=full)


@router.post("", status_code=202)
def create_server(
    request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> JSONResponse:
    created, reservation_id = get_service(request).servers.create(ctx, body, version)
    if isinstance(body.get("server"), dict) and body["server"].get("return_reservation_id") in (True, "True", "true"):
        return JSONResponse({"reservation_id": reservation_id}, status_code=202)
    first = created[0]
    server = {
        "id": first.inst.uuid,
        "links": views.links(request, "servers", first.inst.uuid),
        "OS-DCF:diskConfig": "MANUAL",
        "security_groups": first.inst.security_groups,
        "adminPass": first.admin_pass,
    }
    location = server["links"][0]["href"]
    return JSONResponse({"server": server}, status_code=202, headers={"Location": location})


def _list(
    request: Request, ctx: RequestContext, params: dict[str, str], version: Version, detail: bool
) -> dict[str, Any]:
    records = get_service(request).servers.list(ctx, params, version, detail=detail)
    if detail:
        servers = [render(request, ctx, r, version) for r in records]
    else:
        servers = [views.server_brief(request, r) for r in records]
    doc: dict[str, Any] = {"servers": servers}
    limit = params.get("limit")
    next_links = views.collection_links(request, "servers" + ("/detail" if detail else ""), servers, limit)
    if next_links:
        doc["servers_links"] = next_links
    return doc


@router.get("")
def list_servers(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    return _list(request, ctx, params, version, detail=False)


@router.get("/detail")
def list_servers_detail(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    return _list(request, ctx, params, version, detail=True)


@router.get("/{server_id}")
def show_server(
    server_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    rec = get_service(request).servers.show(ctx, server_id)
    return {"server": render(request, ctx, rec, version, show=True)}


@router.put("/{server_id}")
def update_server(
    server_id: str,
    request: Request,
    ctx: RequestContext = Context,
    body: Any = JsonBody,
    version: Version = ApiVersion,
) -> dict[str, Any]:
    rec = get_service(request).servers.update(ctx, server_id, body, version)
    # Before 2.75 the PUT answer leaves out the extended attributes GET shows.
    return {"server": render(request, ctx, rec, version, show=True, full=version >= "2.75")}


@router.delete("/{server_id}", status_code=204)
def delete_server(server_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).servers.delete(ctx, server_id)
    return Response(status_code=204)


@router.get("/{server_id}/diagnostics")
def server_diagnostics(server_id: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    """Admin: Nova asks the host's driver; the agents here report no diagnostics, so 501 as Nova answers then."""
    service = get_service(request)
    rec = service.servers.show(ctx, server_id)
    service.enforcer.enforce(ctx, "os_compute_api:os-server-diagnostics:show", {"project_id": rec.inst.project_id})
    raise NotImplementedByDriver("Virt driver does not implement server diagnostics.")
