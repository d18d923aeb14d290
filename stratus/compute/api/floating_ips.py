"""Nova's floating IP proxies (os-floating-ips, os-floating-ip-pools), up to microversion 2.35."""

from __future__ import annotations

from typing import Any

import anyio.from_thread
from fastapi import APIRouter, Depends, Request, Response

from stratus.compute.api.deps import ApiVersion, Context, get_service, json_body
from stratus.compute.api.microversion import Version
from stratus.compute.core import network_proxy
from stratus.core.context import RequestContext

router = APIRouter()


def _optional_body(request: Request) -> Any:
    """The JSON body, or None when there is none (a POST without a pool allocates from the default one)."""
    return json_body(request) if anyio.from_thread.run(request.body) else None


@router.get("/v2.1/os-floating-ips")
def list_floating_ips(request: Request, ctx: RequestContext = Context, version: Version = ApiVersion) -> dict[str, Any]:
    network_proxy.check_version(version)
    return {"floating_ips": network_proxy.list_floating_ips(get_service(request), ctx)}


@router.get("/v2.1/os-floating-ips/{fip_id}")
def show_floating_ip(
    fip_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    network_proxy.check_version(version)
    return {"floating_ip": network_proxy.show_floating_ip(get_service(request), ctx, fip_id)}


@router.post("/v2.1/os-floating-ips")
def create_floating_ip(
    request: Request, ctx: RequestContext = Context, body: Any = Depends(_optional_body), version: Version = ApiVersion
) -> dict[str, Any]:
    network_proxy.check_version(version)
    return {"floating_ip": network_proxy.create_floating_ip(get_service(request), ctx, body)}


@router.delete("/v2.1/os-floating-ips/{fip_id}", status_code=202)
def delete_floating_ip(
    fip_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> Response:
    network_proxy.check_version(version)
    network_proxy.delete_floating_ip(get_service(request), ctx, fip_id)
    return Response(status_code=202)


@router.get("/v2.1/os-floating-ip-pools")
def list_pools(request: Request, ctx: RequestContext = Context, version: Version = ApiVersion) -> dict[str, Any]:
    network_proxy.check_version(version)
    return {"floating_ip_pools": network_proxy.list_pools(get_service(request), ctx)}
