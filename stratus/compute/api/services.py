"""``/v2.1/os-services``: list, enable/disable (with reason), force down, delete compute services."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.compute.api.deps import ApiVersion, Context, JsonBody, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.api.views import iso_us
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, NotFound

router = APIRouter(prefix="/v2.1/os-services")
LEGACY_ACTIONS = ("enable", "disable", "disable-log-reason", "force-down")


def _service(s: Any, up: bool, version: Version) -> dict[str, Any]:
    body = {
        "id": s.uuid if version >= "2.53" else s.id,
        "binary": s.binary,
        "host": s.host,
        "zone": s.availability_zone,
        "status": "disabled" if s.disabled else "enabled",
        "state": "up" if up else "down",
        "updated_at": iso_us(s.updated_at or s.last_seen_up),
        "disabled_reason": s.disabled_reason,
    }
    if version >= "2.11":
        body["forced_down"] = s.forced_down
    return body


@router.get("")
def list_services(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    found = get_service(request).hosts.services(ctx, params.get("host"), params.get("binary"))
    return {"services": [_service(s, up, version) for s, up in found]}


@router.put("/{target}")
def update_service(
    target: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadRequest("Malformed request body: expected an object.")
    hosts = get_service(request).hosts
    if version >= "2.53":
        if target in LEGACY_ACTIONS:
            raise NotFound("The resource could not be found.")
        unknown = set(body) - {"status", "disabled_reason", "forced_down"}
        if unknown or not body:
            raise BadRequest("Invalid input: expected some of status, disabled_reason, forced_down.")
        service, up = hosts.update_service(ctx, service_id=target, changes=body)
        return {"service": _service(service, up, version)}
    if target not in LEGACY_ACTIONS or (target == "force-down" and version < "2.11"):
        raise NotFound("The resource could not be found.")
    host, binary = body.get("host"), body.get("binary")
    if not isinstance(host, str) or not isinstance(binary, str):
        raise BadRequest("Invalid input: 'host' and 'binary' are required.")
    changes: dict[str, Any] = {}
    if target == "enable":
        changes["status"] = "enabled"
    elif target in ("disable", "disable-log-reason"):
        changes["status"] = "disabled"
        if target == "disable-log-reason":
            changes["disabled_reason"] = body.get("disabled_reason")
    else:
        changes["forced_down"] = body.get("forced_down")
    service, _ = hosts.update_service(ctx, host=host, binary=binary, changes=changes)
    out: dict[str, Any] = {"host": service.host, "binary": service.binary}
    if target == "force-down":
        out["forced_down"] = service.forced_down
    else:
        out["status"] = "disabled" if service.disabled else "enabled"
        if target == "disable-log-reason":
            out["disabled_reason"] = service.disabled_reason
    return {"service": out}


@router.delete("/{service_id}", status_code=204)
def delete_service(service_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).hosts.delete_service(ctx, service_id)
    return Response(status_code=204)
