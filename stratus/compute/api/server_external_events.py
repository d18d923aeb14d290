"""``POST /v2.1/os-server-external-events``: events from other services (Neutron, Cinder) about servers.

Each event is checked against its server (404 unknown, 422 not on a host yet) and answered as Nova
does; the accepted ones are cast, grouped by host, to that host's agent (``external_instance_event``),
where a build waiting for ``network-vif-plugged`` picks them up.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from stratus.compute import models
from stratus.compute.api.deps import ApiVersion, Context, JsonBody, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.core.base import ctx_dict, is_uuid
from stratus.compute.rpcapi import ComputeAgentAPI
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, NotFound

LOG = logging.getLogger(__name__)
MOVES_IN_PROGRESS = ("accepted", "pre-migrating", "migrating", "post-migrating", "reverting", "confirming")
router = APIRouter(prefix="/v2.1/os-server-external-events")
NAMES = {"network-changed", "network-vif-plugged", "network-vif-unplugged", "network-vif-deleted"}
STATUSES = ("failed", "completed", "in-progress")


def _names(version: Version) -> set[str]:
    names = set(NAMES)
    if version >= "2.51":
        names.add("volume-extended")
    if version >= "2.76":
        names.add("power-update")
    return names


def _check(event: Any, version: Version) -> dict[str, Any]:
    if not isinstance(event, dict) or set(event) - {"name", "server_uuid", "status", "tag"}:
        raise BadRequest(f"Invalid input for field/attribute events. Value: {event!r}.")
    if event.get("name") not in _names(version):
        raise BadRequest(f"Invalid input for field/attribute name. Value: {event.get('name')}.")
    if not isinstance(event.get("server_uuid"), str):
        raise BadRequest("Invalid input for field/attribute server_uuid.")
    status = event.get("status", "completed")
    if status not in STATUSES:
        raise BadRequest(f"Invalid input for field/attribute status. Value: {status}.")
    tag = event.get("tag")
    if tag is not None and (not isinstance(tag, str) or len(tag) > 255):
        raise BadRequest("Invalid input for field/attribute tag.")
    checked = {"name": event["name"], "server_uuid": event["server_uuid"], "status": status}
    if tag is not None:
        checked["tag"] = tag
    return checked


@router.post("")
def create_events(
    request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> JSONResponse:
    service = get_service(request)
    service.enforcer.enforce(ctx, "os_compute_api:os-server-external-events:create", {"project_id": ctx.project_id})
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list) or not events:
        raise BadRequest("Invalid input for field/attribute events. 'events' must be a non-empty list.")
    checked = [_check(e, version) for e in events]
    uuids = {e["server_uuid"] for e in checked if is_uuid(e["server_uuid"])}
    with service.db.reader() as session:
        query = sa.select(models.Instance.uuid, models.Instance.host).where(
            models.Instance.uuid.in_(uuids), models.Instance.deleted.is_(False)
        )
        hosts = dict(session.execute(query).tuples().all()) if uuids else {}
        moving = _moving_hosts(session, uuids)
    accepted = False
    for event in checked:
        if event["server_uuid"] not in hosts:
            event["code"] = 404
        elif not hosts[event["server_uuid"]]:
            event["code"] = 422
        else:
            event["code"], accepted = 200, True
    if not accepted:
        raise NotFound("No instances found for any event")
    _deliver(service, ctx, checked, hosts, moving)
    status = 200 if all(e["code"] == 200 for e in checked) else 207
    return JSONResponse({"events": checked}, status_code=status)


def _moving_hosts(session: Any, uuids: set[str]) -> dict[str, set[str]]:
    """Both ends of the moves in progress of these servers: during a migration the destination waits for
    ``network-vif-plugged`` while the server is still recorded on its source (Nova's ``_get_relevant_hosts``)."""
    if not uuids:
        return {}
    m = models.Migration
    query = sa.select(m.instance_uuid, m.source_compute, m.dest_compute).where(
        m.instance_uuid.in_(uuids), m.status.in_(MOVES_IN_PROGRESS)
    )
    out: dict[str, set[str]] = {}
    for uuid, source, dest in session.execute(query):
        out.setdefault(uuid, set()).update(h for h in (source, dest) if h)
    return out


def _deliver(
    service: Any,
    ctx: RequestContext,
    checked: list[dict[str, Any]],
    hosts: dict[str, str],
    moving: dict[str, set[str]],
) -> None:
    """Cast the accepted events to the agents of their hosts (best effort: a lost event times the wait out)."""
    by_host: dict[str, list[dict[str, Any]]] = {}
    for event in checked:
        if event["code"] == 200:
            fields = {k: event[k] for k in ("name", "server_uuid", "status", "tag") if k in event}
            uuid = event["server_uuid"]
            for host in sorted({hosts[uuid], *moving.get(uuid, ())}):
                by_host.setdefault(host, []).append(fields)
    if service.bus is None:
        return
    agents = ComputeAgentAPI(service.bus)
    for host, events in by_host.items():
        try:
            agents.external_instance_event(ctx_dict(ctx), host, events)
        except Exception:
            LOG.exception("could not deliver %d server event(s) to %s", len(events), host)
