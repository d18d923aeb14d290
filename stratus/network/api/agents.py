"""``/v2.0/agents`` (the agent extension): list, show, update and delete; agents are never created."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.core.context import RequestContext
from stratus.network.api.deps import Context, JsonBody, get_service, params
from stratus.network.core import listing

router = APIRouter(prefix="/v2.0/agents")


@router.get("")
def list_agents(request: Request, ctx: RequestContext = Context) -> Any:
    service = get_service(request)
    query = params(request)
    items = service.agents.list(ctx, query)
    return listing.query(
        items, query, collection="agents", path=str(request.url.path), limit_max=service.conf.limit_max
    )


@router.get("/{agent_id}")
def show_agent(agent_id: str, request: Request, ctx: RequestContext = Context) -> Any:
    doc = get_service(request).agents.show(ctx, agent_id)
    return {"agent": listing.select_fields(doc, [v for k, v in params(request) if k == "fields"])}


@router.put("/{agent_id}")
def update_agent(agent_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody) -> Any:
    return {"agent": get_service(request).agents.update(ctx, agent_id, body)}


@router.delete("/{agent_id}", status_code=204)
def delete_agent(agent_id: str, request: Request, ctx: RequestContext = Context) -> Response:
    get_service(request).agents.delete(ctx, agent_id)
    return Response(status_code=204)
