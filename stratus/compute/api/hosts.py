"""``/v2.1/os-hosts``: Nova's admin host API (to 2.42): list, show resources, enable/disable, power."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import ApiVersion, Context, JsonBody, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound

router = APIRouter(prefix="/v2.1/os-hosts")


def _check_version(version: Version) -> None:
    if version >= "2.43":
        raise NotFound("The resource could not be found.")


@router.get("")
def list_hosts(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    _check_version(version)
    return {"hosts": get_service(request).hosts.legacy_hosts(ctx, params.get("zone"))}


@router.get("/{host}")
def show_host(
    host: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    _check_version(version)
    return {"host": get_service(request).hosts.legacy_host(ctx, host)}


@router.put("/{host}")
def update_host(
    host: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> dict[str, Any]:
    _check_version(version)
    return get_service(request).hosts.legacy_update(ctx, host, body)


@router.get("/{host}/{action}")
def host_power_action(
    host: str, action: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    _check_version(version)
    if action not in ("startup", "shutdown", "reboot"):
        raise NotFound("The resource could not be found.")
    get_service(request).hosts.legacy_power(ctx, host, action)
    return {"host": host, "power_action": action}
