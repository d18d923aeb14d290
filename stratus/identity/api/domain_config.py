"""``/v3/domains/{domain_id}/config[/{group}[/{option}]]`` and ``/v3/domains/config[/{group}[/{option}]]/default``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.responses import JSONResponse

from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.resources import domain_config
from stratus.identity.resources.text import reject_nul_in_url

router = APIRouter(dependencies=[Depends(reject_nul_in_url)])
BASE = "/v3/domains/{domain_id}/config"


def _config(body: Any) -> Any:
    if not isinstance(body, dict) or set(body) != {"config"}:
        raise BadRequest('The request body must be {"config": {...}}.')
    return body["config"]


@router.get("/v3/domains/config/default")
@router.get("/v3/domains/config/{group}/default")
@router.get("/v3/domains/config/{group}/{option}/default")
def get_default(
    request: Request, group: str | None = None, option: str | None = None, ctx: RequestContext = Context
) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_domain_config_default")
    return {"config": domain_config.default(group, option)}


@router.put(BASE)
def create_config(request: Request, domain_id: str, body: Any = Body(None), ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:create_domain_config", {"domain_id": domain_id})
    with get_service(request).db.session() as session:
        created = domain_config.replace(session, domain_id, _config(body))
        shown = domain_config.visible(domain_config.get(session, domain_id).config)
    return JSONResponse({"config": shown}, status_code=201 if created else 200)


@router.get(BASE)
@router.get(BASE + "/{group}")
@router.get(BASE + "/{group}/{option}")
def get_config(
    request: Request, domain_id: str, group: str | None = None, option: str | None = None, ctx: RequestContext = Context
) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_domain_config", {"domain_id": domain_id})
    with get_service(request).db.reader() as session:
        return {"config": domain_config.visible(domain_config.get(session, domain_id).config, group, option)}


@router.patch(BASE)
@router.patch(BASE + "/{group}")
@router.patch(BASE + "/{group}/{option}")
def update_config(
    request: Request,
    domain_id: str,
    group: str | None = None,
    option: str | None = None,
    body: Any = Body(None),
    ctx: RequestContext = Context,
) -> dict[str, Any]:
    enforce(request, ctx, "identity:update_domain_config", {"domain_id": domain_id})
    with get_service(request).db.session() as session:
        domain_config.update(session, domain_id, _config(body), group, option)
        return {"config": domain_config.visible(domain_config.get(session, domain_id).config)}


@router.delete(BASE, status_code=204)
@router.delete(BASE + "/{group}", status_code=204)
@router.delete(BASE + "/{group}/{option}", status_code=204)
def delete_config(
    request: Request, domain_id: str, group: str | None = None, option: str | None = None, ctx: RequestContext = Context
) -> Response:
    enforce(request, ctx, "identity:delete_domain_config", {"domain_id": domain_id})
    with get_service(request).db.session() as session:
        domain_config.delete(session, domain_id, group, option)
    return Response(status_code=204)
