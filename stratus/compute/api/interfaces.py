"""``/v2.1/servers/{id}/os-interface``: a server's ports, as the network API has them (list and show only).

Read with the user's token, as Nova's ``attach_interfaces`` index does (``list_ports(device_id=...)``);
attaching and detaching interfaces to a running server is not offered (405).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import ApiVersion, Context, get_service
from stratus.compute.api.microversion import Version
from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound

router = APIRouter(prefix="/v2.1/servers/{server_id}/os-interface")


def _attachment(port: dict[str, Any], version: Version) -> dict[str, Any]:
    body = {
        "port_state": port.get("status"),
        "fixed_ips": [
            {"subnet_id": f.get("subnet_id"), "ip_address": f.get("ip_address")} for f in port.get("fixed_ips") or []
        ],
        "port_id": port["id"],
        "net_id": port.get("network_id"),
        "mac_addr": port.get("mac_address"),
    }
    if version >= "2.70":
        body["tag"] = None
    return body


def _ports(request: Request, ctx: RequestContext, server_id: str, rule: str) -> list[dict[str, Any]]:
    service = get_service(request)
    inst = service.servers.show(ctx, server_id).inst  # 404 for a server the caller cannot see
    service.enforcer.enforce(ctx, f"os_compute_api:os-attach-interfaces:{rule}", {"project_id": inst.project_id})
    return service.deps.network.ports(ctx, inst.uuid)


@router.get("")
def list_interfaces(
    server_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    ports = _ports(request, ctx, server_id, "list")
    return {"interfaceAttachments": [_attachment(p, version) for p in ports]}


@router.get("/{port_id}")
def show_interface(
    server_id: str, port_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    for port in _ports(request, ctx, server_id, "show"):
        if port["id"] == port_id:
            return {"interfaceAttachment": _attachment(port, version)}
    raise NotFound(f"Port id {port_id} could not be found.")
