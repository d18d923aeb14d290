"""``/v3/auth/*``: tokens, and the catalog, projects and domains a token can use."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse

from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, NotFound
from stratus.identity.api.common import collection, entity_links, query_bool
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.assignments import effective_role_ids
from stratus.identity.models import Domain, Project
from stratus.identity.tokens.render import catalog

router = APIRouter()


def _subject(request: Request) -> str:
    token = request.headers.get("x-subject-token")
    if not token:
        raise BadRequest("X-Subject-Token header is required.")
    return token


@router.post("/v3/auth/tokens", status_code=201)
def issue_token(
    request: Request, body: dict[str, Any] | None = Body(None), nocatalog: str | None = None
) -> JSONResponse:
    provider = get_service(request).tokens
    include_catalog = not query_bool(nocatalog, "nocatalog") if nocatalog is not None else True
    token_id, doc = provider.authenticate(body, include_catalog=include_catalog)
    return JSONResponse(doc, status_code=201, headers={"X-Subject-Token": token_id})


def _subject_document(request: Request, ctx: RequestContext, nocatalog: str | None, allow_expired: str | None) -> dict:
    service = get_service(request)
    subject = _subject(request)
    doc = service.tokens.document(
        subject,
        allow_expired=bool(query_bool(allow_expired, "allow_expired")),
        include_catalog=not query_bool(nocatalog, "nocatalog") if nocatalog is not None else True,
    )
    enforce(request, ctx, "identity:validate_token", {"user_id": doc["token"]["user"]["id"]})
    return doc


@router.get("/v3/auth/tokens")
def validate_token(
    request: Request, ctx: RequestContext = Context, nocatalog: str | None = None, allow_expired: str | None = None
) -> JSONResponse:
    doc = _subject_document(request, ctx, nocatalog, allow_expired)
    return JSONResponse(doc, headers={"X-Subject-Token": _subject(request)})


@router.head("/v3/auth/tokens")
def check_token(request: Request, ctx: RequestContext = Context, allow_expired: str | None = None) -> Response:
    _subject_document(request, ctx, "1", allow_expired)
    return Response(status_code=200, headers={"X-Subject-Token": _subject(request)})


@router.delete("/v3/auth/tokens", status_code=204)
def revoke_token(request: Request, ctx: RequestContext = Context) -> Response:
    service = get_service(request)
    subject = _subject(request)
    doc = service.tokens.document(subject, include_catalog=False)
    enforce(request, ctx, "identity:revoke_token", {"user_id": doc["token"]["user"]["id"]})
    service.tokens.revoke(subject)
    return Response(status_code=204)


@router.get("/v3/auth/catalog")
def auth_catalog(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_auth_catalog")
    if not (ctx.project_id or ctx.domain_id or ctx.roles):  # a system-scoped token has roles only
        raise NotFound("An unscoped token has no catalog; request a project-scoped token.")
    with get_service(request).db.reader() as session:
        return {"catalog": catalog(session), "links": {"self": str(request.url), "previous": None, "next": None}}


@router.get("/v3/auth/projects")
def auth_projects(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_auth_projects")
    with get_service(request).db.reader() as session:
        projects = session.scalars(sa.select(Project).where(Project.enabled.is_(True)).order_by(Project.name)).all()
        usable = [p for p in projects if effective_role_ids(session, ctx.user_id, project_id=p.id)]
        items = [
            {
                "id": p.id,
                "name": p.name,
                "domain_id": p.domain_id,
                "enabled": p.enabled,
                "description": p.description or "",
                "parent_id": p.parent_id or p.domain_id,
                "is_domain": False,
                "tags": p.tags,
                "links": entity_links(request, f"projects/{p.id}"),
            }
            for p in usable
        ]
    return collection(request, "projects", items)


@router.get("/v3/auth/system")
def auth_system(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    """The systems the token's user may scope to: ``[{"all": true}]`` with a system role, else none."""
    enforce(request, ctx, "identity:get_auth_system")
    with get_service(request).db.reader() as session:
        has_role = bool(effective_role_ids(session, ctx.user_id, system=True))
    return {"system": [{"all": True}] if has_role else [], "links": {"self": str(request.url)}}


@router.get("/v3/auth/domains")
def auth_domains(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_auth_domains")
    with get_service(request).db.reader() as session:
        domains = session.scalars(sa.select(Domain).where(Domain.enabled.is_(True)).order_by(Domain.name)).all()
        usable = [d for d in domains if effective_role_ids(session, ctx.user_id, domain_id=d.id)]
        items = [
            {
                "id": d.id,
                "name": d.name,
                "enabled": d.enabled,
                "description": d.description or "",
                "tags": d.tags,
                "links": entity_links(request, f"domains/{d.id}"),
            }
            for d in usable
        ]
    return collection(request, "domains", items)
