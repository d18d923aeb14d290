"""``/v2.1/servers/{id}/os-instance-actions``: what was done to a server, and its events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import ApiVersion, Context, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.api.views import host_id, iso_us
from stratus.core.context import RequestContext

router = APIRouter(prefix="/v2.1/servers/{server_id}/os-instance-actions")


def _action(a: Any, version: Version) -> dict[str, Any]:
    body = {
        "action": a.action,
        "instance_uuid": a.instance_uuid,
        "message": a.message,
        "project_id": a.project_id,
        "request_id": a.request_id,
        "start_time": iso_us(a.start_time),
        "user_id": a.user_id,
    }
    if version >= "2.58":
        body["updated_at"] = iso_us(a.updated_at)
    return body


@router.get("")
def list_actions(
    server_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    actions = get_service(request).instance_actions.list(ctx, server_id)
    return {"instanceActions": [_action(a, version) for a in actions]}


@router.get("/{request_id}")
def show_action(
    server_id: str, request_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    action, events, details = get_service(request).instance_actions.show(ctx, server_id, request_id)
    body = _action(action, version)
    rendered = []
    for e in events:
        event: dict[str, Any] = {
            "event": e.event,
            "start_time": iso_us(e.start_time),
            "finish_time": iso_us(e.finish_time),
            "result": e.result,
        }
        if details:
            event["traceback"] = e.traceback
        if version >= "2.62":
            event["hostId"] = host_id(action.project_id, e.host)
            if details:
                event["host"] = e.host
        rendered.append(event)
    body["events"] = rendered
    return {"instanceAction": body}
