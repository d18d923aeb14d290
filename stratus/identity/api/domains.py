"""``/v3/domains``: list, create, show, update, delete (only once disabled)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from stratus.core.context import RequestContext
from stratus.identity import models
from stratus.identity.api.common import collection, entity_links, query_bool
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.resources import domains
from stratus.identity.resources.common import get_or_404
from stratus.identity.resources.text import reject_nul_in_url

router = APIRouter(dependencies=[Depends(reject_nul_in_url)])


class CreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    domain: domains.DomainCreate


class UpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    domain: domains.DomainUpdate


def render(request: Request, domain: models.Domain) -> dict[str, Any]:
    return {**domains.to_dict(domain), "links": entity_links(request, f"domains/{domain.id}")}


@router.get("/v3/domains")
def list_domains(
    request: Request, ctx: RequestContext = Context, name: str | None = None, enabled: str | None = None
) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_domains")
    stmt = sa.select(models.Domain).order_by(models.Domain.name)
    if name is not None:
        stmt = stmt.where(models.Domain.name == name)
    if (want := query_bool(enabled, "enabled")) is not None:
        stmt = stmt.where(models.Domain.enabled.is_(want))
    with get_service(request).db.reader() as session:
        return collection(request, "domains", [render(request, d) for d in session.scalars(stmt)])


@router.post("/v3/domains", status_code=201)
def create_domain(request: Request, body: CreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:create_domain")
    with get_service(request).db.session() as session:
        return {"domain": render(request, domains.create(session, body.domain))}


@router.get("/v3/domains/{domain_id}")
def get_domain(request: Request, domain_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_domain", {"id": domain_id, "domain_id": domain_id})
    with get_service(request).db.reader() as session:
        return {"domain": render(request, get_or_404(session, models.Domain, domain_id))}


@router.patch("/v3/domains/{domain_id}")
def update_domain(request: Request, domain_id: str, body: UpdateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:update_domain", {"id": domain_id, "domain_id": domain_id})
    service = get_service(request)
    with service.db.session() as session:
        domain = get_or_404(session, models.Domain, domain_id)
        disabled = domains.update(session, domain, body.domain)
        result = {"domain": render(request, domain)}
    if disabled:
        service.announce_revocation()
    return result


@router.delete("/v3/domains/{domain_id}", status_code=204)
def delete_domain(request: Request, domain_id: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:delete_domain", {"id": domain_id, "domain_id": domain_id})
    service = get_service(request)
    with service.db.session() as session:
        domains.delete(session, get_or_404(session, models.Domain, domain_id))
    service.announce_revocation()
    return Response(status_code=204)
