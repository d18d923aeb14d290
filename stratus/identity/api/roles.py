"""``/v3/roles``, implied roles (``/v3/roles/{prior}/implies/{implied}``) and ``/v3/role_inferences``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from stratus.core.context import RequestContext
from stratus.identity import models
from stratus.identity.api.common import base_url, collection, entity_links
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.resources import roles
from stratus.identity.resources.common import get_or_404
from stratus.identity.resources.text import reject_nul_in_url

router = APIRouter(dependencies=[Depends(reject_nul_in_url)])


class CreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    role: roles.RoleCreate


class UpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    role: roles.RoleUpdate


def render(request: Request, role: models.Role) -> dict[str, Any]:
    return {**roles.to_dict(role), "links": entity_links(request, f"roles/{role.id}")}


def _brief(request: Request, role: models.Role) -> dict[str, Any]:
    return roles.brief(role, entity_links(request, f"roles/{role.id}"))


def _target(role: models.Role | None, role_id: str) -> dict[str, Any]:
    return {"id": role_id, "domain_id": roles.api_domain_id(role) if role else None}


@router.get("/v3/roles")
def list_roles(
    request: Request, ctx: RequestContext = Context, name: str | None = None, domain_id: str | None = None
) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_roles", {"domain_id": domain_id})
    stmt = sa.select(models.Role).order_by(models.Role.name)
    stmt = stmt.where(models.Role.domain_id == (domain_id or models.NULL_DOMAIN_ID))
    if name is not None:
        stmt = stmt.where(models.Role.name == name)
    with get_service(request).db.reader() as session:
        return collection(request, "roles", [render(request, r) for r in session.scalars(stmt)])


@router.post("/v3/roles", status_code=201)
def create_role(request: Request, body: CreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:create_role", {"domain_id": body.role.domain_id})
    with get_service(request).db.session() as session:
        return {"role": render(request, roles.create(session, body.role))}


@router.get("/v3/roles/{role_id}")
def get_role(request: Request, role_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    with get_service(request).db.reader() as session:
        enforce(request, ctx, "identity:get_role", _target(session.get(models.Role, role_id), role_id))
        return {"role": render(request, get_or_404(session, models.Role, role_id))}


@router.patch("/v3/roles/{role_id}")
def update_role(request: Request, role_id: str, body: UpdateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    with get_service(request).db.session() as session:
        enforce(request, ctx, "identity:update_role", _target(session.get(models.Role, role_id), role_id))
        role = get_or_404(session, models.Role, role_id)
        roles.update(session, role, body.role)
        return {"role": render(request, role)}


@router.delete("/v3/roles/{role_id}", status_code=204)
def delete_role(request: Request, role_id: str, ctx: RequestContext = Context) -> Response:
    service = get_service(request)
    with service.db.session() as session:
        enforce(request, ctx, "identity:delete_role", _target(session.get(models.Role, role_id), role_id))
        roles.delete(session, get_or_404(session, models.Role, role_id))
    service.announce_revocation()
    return Response(status_code=204)


def _inference(request: Request, session: Any, prior_id: str, implied_ids: list[str]) -> dict[str, Any]:
    prior = get_or_404(session, models.Role, prior_id)
    implied = [_brief(request, get_or_404(session, models.Role, i)) for i in implied_ids]
    return {"prior_role": _brief(request, prior), "implies": implied}


def _implies_link(request: Request, prior_id: str, implied_id: str) -> dict[str, str]:
    return {"self": f"{base_url(request)}/v3/roles/{prior_id}/implies/{implied_id}"}


@router.put("/v3/roles/{prior_id}/implies/{implied_id}", status_code=201)
def create_implied_role(request: Request, prior_id: str, implied_id: str, ctx: RequestContext = Context) -> dict:
    enforce(request, ctx, "identity:create_implied_role")
    with get_service(request).db.session() as session:
        prior, implied = roles.create_implied(session, prior_id, implied_id)
        return {
            "role_inference": {"prior_role": _brief(request, prior), "implies": _brief(request, implied)},
            "links": _implies_link(request, prior_id, implied_id),
        }


@router.get("/v3/roles/{prior_id}/implies/{implied_id}")
def get_implied_role(request: Request, prior_id: str, implied_id: str, ctx: RequestContext = Context) -> dict:
    enforce(request, ctx, "identity:get_implied_role")
    with get_service(request).db.reader() as session:
        prior, implied = roles.get_implied(session, prior_id, implied_id)
        return {
            "role_inference": {"prior_role": _brief(request, prior), "implies": _brief(request, implied)},
            "links": _implies_link(request, prior_id, implied_id),
        }


@router.head("/v3/roles/{prior_id}/implies/{implied_id}", status_code=204)
def check_implied_role(request: Request, prior_id: str, implied_id: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:get_implied_role")
    with get_service(request).db.reader() as session:
        roles.get_implied(session, prior_id, implied_id)
    return Response(status_code=204)


@router.delete("/v3/roles/{prior_id}/implies/{implied_id}", status_code=204)
def delete_implied_role(request: Request, prior_id: str, implied_id: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:delete_implied_role")
    with get_service(request).db.session() as session:
        roles.delete_implied(session, prior_id, implied_id)
    return Response(status_code=204)


@router.get("/v3/roles/{prior_id}/implies")
def list_implied_roles(request: Request, prior_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_implied_roles")
    with get_service(request).db.reader() as session:
        get_or_404(session, models.Role, prior_id)
        implied = roles.implied_ids(session, prior_id)
        return {
            "role_inference": _inference(request, session, prior_id, implied),
            "links": {"self": f"{base_url(request)}/v3/roles/{prior_id}/implies"},
        }


@router.get("/v3/role_inferences")
def list_role_inferences(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_role_inference_rules")
    with get_service(request).db.reader() as session:
        rules = roles.inference_rules(session)
        items = [_inference(request, session, prior, implied) for prior, implied in rules.items()]
    return {"role_inferences": items, "links": {"self": str(request.url), "previous": None, "next": None}}
