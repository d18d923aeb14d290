"""Nova's network proxies (os-networks, os-tenant-networks): reads up to microversion 2.35, writes 410 Gone.

Nova removed the calls that managed nova-network networks; they answer 410 at every microversion.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import ApiVersion, Context, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.core import network_proxy
from stratus.core.context import RequestContext
from stratus.core.exceptions import Gone

router = APIRouter()


def _gone(ctx: RequestContext = Context) -> None:
    raise Gone(network_proxy.GONE)


@router.get("/v2.1/os-networks")
def list_networks(request: Request, ctx: RequestContext = Context, version: Version = ApiVersion) -> dict[str, Any]:
    network_proxy.check_version(version)
    return {"networks": network_proxy.list_networks(get_service(request), ctx)}


@router.get("/v2.1/os-networks/{network_id}")
def show_network(
    network_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    network_proxy.check_version(version)
    return {"network": network_proxy.show_network(get_service(request), ctx, network_id)}


@router.get("/v2.1/os-tenant-networks")
def list_tenant_networks(
    request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    network_proxy.check_version(version)
    return {"networks": network_proxy.list_tenant_networks(get_service(request), ctx)}


@router.get("/v2.1/os-tenant-networks/{network_id}")
def show_tenant_network(
    network_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    network_proxy.check_version(version)
    return {"network": network_proxy.show_tenant_network(get_service(request), ctx, network_id)}


# the nova-network management calls Nova removed (create, add, delete, disassociate)
for _path, _method in (
    ("/v2.1/os-networks", "POST"),
    ("/v2.1/os-networks/add", "POST"),
    ("/v2.1/os-networks/{network_id}", "DELETE"),
    ("/v2.1/os-networks/{network_id}/action", "POST"),
    ("/v2.1/os-tenant-networks", "POST"),
    ("/v2.1/os-tenant-networks/{network_id}", "DELETE"),
):
    router.add_api_route(_path, _gone, methods=[_method], status_code=410)
