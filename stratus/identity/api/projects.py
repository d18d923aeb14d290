"""``/v3/projects`` and ``/v3/users/{user_id}/projects``."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound
from stratus.identity import models
from stratus.identity.api.common import collection, entity_links, query_bool
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.resources import domains, projects, role_assignments
from stratus.identity.resources.common import DEFAULT_DOMAIN_ID, get_or_404
from stratus.identity.resources.text import reject_nul_in_url

router = APIRouter(dependencies=[Depends(reject_nul_in_url)])


class CreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    project: projects.ProjectCreate


class UpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    project: projects.ProjectUpdate


def render(request: Request, project: models.Project) -> dict[str, Any]:
    return {**projects.to_dict(project), "links": entity_links(request, f"projects/{project.id}")}


def _target(project: models.Project | None, project_id: str) -> dict[str, Any]:
    return {"id": project_id, "project_id": project_id, "domain_id": project.domain_id if project else None}


@router.get("/v3/projects")
def list_projects(
    request: Request,
    ctx: RequestContext = Context,
    domain_id: str | None = None,
    name: str | None = None,
    enabled: str | None = None,
    parent_id: str | None = None,
    is_domain: str | None = None,
    tags: str | None = None,
) -> dict[str, Any]:
    if domain_id is None and not ctx.is_admin and ctx.domain_id:
        domain_id = ctx.domain_id  # a domain reader sees its own domain
    enforce(request, ctx, "identity:list_projects", {"domain_id": domain_id})
    stmt = sa.select(models.Project).order_by(models.Project.name)
    if query_bool(is_domain, "is_domain"):
        return _list_domains_as_projects(request, name, query_bool(enabled, "enabled"))
    if domain_id is not None:
        stmt = stmt.where(models.Project.domain_id == domain_id)
    if name is not None:
        stmt = stmt.where(models.Project.name == name)
    if (want := query_bool(enabled, "enabled")) is not None:
        stmt = stmt.where(models.Project.enabled.is_(want))
    with get_service(request).db.reader() as session:
        if parent_id is not None:
            if session.get(models.Domain, parent_id) is not None:
                stmt = stmt.where(models.Project.parent_id.is_(None), models.Project.domain_id == parent_id)
            else:
                stmt = stmt.where(models.Project.parent_id == parent_id)
        rows = list(session.scalars(stmt))
        if tags:
            wanted = set(tags.split(","))
            rows = [p for p in rows if wanted <= set(p.tags or [])]
        return collection(request, "projects", [render(request, p) for p in rows])


def _list_domains_as_projects(request: Request, name: str | None, enabled: bool | None) -> dict[str, Any]:
    stmt = sa.select(models.Domain).order_by(models.Domain.name)
    if name is not None:
        stmt = stmt.where(models.Domain.name == name)
    if enabled is not None:
        stmt = stmt.where(models.Domain.enabled.is_(enabled))
    with get_service(request).db.reader() as session:
        return collection(request, "projects", [_render_domain(request, d) for d in session.scalars(stmt)])


def _render_domain(request: Request, domain: models.Domain) -> dict[str, Any]:
    return {**projects.domain_as_project(domain), "links": entity_links(request, f"projects/{domain.id}")}


def _as_domain(session: Any, project_id: str) -> models.Domain | None:
    """The domain a project id names when it is not a project (Keystone's is_domain projects)."""
    if session.get(models.Project, project_id) is not None:
        return None
    return session.get(models.Domain, project_id)


@router.post("/v3/projects", status_code=201)
def create_project(request: Request, body: CreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    default_domain = ctx.domain_id or ctx.project_domain_id or DEFAULT_DOMAIN_ID
    if body.project.is_domain:
        enforce(request, ctx, "identity:create_domain")
        with get_service(request).db.session() as session:
            return {"project": _render_domain(request, projects.create_domain(session, body.project))}
    enforce(request, ctx, "identity:create_project", {"domain_id": body.project.domain_id or default_domain})
    with get_service(request).db.session() as session:
        return {"project": render(request, projects.create(session, body.project, default_domain))}


@router.get("/v3/projects/{project_id}")
def get_project(request: Request, project_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    with get_service(request).db.reader() as session:
        if (domain := _as_domain(session, project_id)) is not None:
            enforce(request, ctx, "identity:get_domain", {"id": domain.id, "domain_id": domain.id})
            return {"project": _render_domain(request, domain)}
        project = session.get(models.Project, project_id)
        enforce(request, ctx, "identity:get_project", _target(project, project_id))
        return {"project": render(request, get_or_404(session, models.Project, project_id))}


@router.patch("/v3/projects/{project_id}")
def update_project(request: Request, project_id: str, body: UpdateBody, ctx: RequestContext = Context) -> dict:
    service = get_service(request)
    with service.db.session() as session:
        if (domain := _as_domain(session, project_id)) is not None:
            enforce(request, ctx, "identity:update_domain", {"id": domain.id, "domain_id": domain.id})
            disabled = projects.update_domain(session, domain, body.project)
            result = {"project": _render_domain(request, domain)}
        else:
            project = session.get(models.Project, project_id)
            enforce(request, ctx, "identity:update_project", _target(project, project_id))
            project = get_or_404(session, models.Project, project_id)
            was_enabled = project.enabled
            projects.update(session, project, body.project)
            disabled = was_enabled and not project.enabled
            result = {"project": render(request, project)}
    if disabled:
        service.announce_revocation()
    return result


@router.delete("/v3/projects/{project_id}", status_code=204)
def delete_project(request: Request, project_id: str, ctx: RequestContext = Context) -> Response:
    service = get_service(request)
    with service.db.session() as session:
        if (domain := _as_domain(session, project_id)) is not None:
            enforce(request, ctx, "identity:delete_domain", {"id": domain.id, "domain_id": domain.id})
            domains.delete(session, domain)
        else:
            project = session.get(models.Project, project_id)
            enforce(request, ctx, "identity:delete_project", _target(project, project_id))
            projects.delete(session, get_or_404(session, models.Project, project_id))
    service.announce_revocation()
    return Response(status_code=204)


# -- tags -------------------------------------------------------------------------------------


class TagsBody(BaseModel):
    model_config = ConfigDict(strict=True)
    tags: list[str]


def _tags_doc(request: Request, project_id: str, tags: list[str]) -> dict[str, Any]:
    return {"tags": tags, "links": entity_links(request, f"projects/{project_id}/tags")}


@router.get("/v3/projects/{project_id}/tags")
def list_project_tags(request: Request, project_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    with get_service(request).db.reader() as session:
        enforce(
            request, ctx, "identity:list_project_tags", _target(session.get(models.Project, project_id), project_id)
        )
        project = get_or_404(session, models.Project, project_id)
        return _tags_doc(request, project_id, list(project.tags or []))


@router.put("/v3/projects/{project_id}/tags")
def update_project_tags(request: Request, project_id: str, body: TagsBody, ctx: RequestContext = Context) -> dict:
    with get_service(request).db.session() as session:
        project = session.get(models.Project, project_id)
        enforce(request, ctx, "identity:update_project_tags", _target(project, project_id))
        project = get_or_404(session, models.Project, project_id)
        return _tags_doc(request, project_id, projects.set_tags(session, project, body.tags))


@router.delete("/v3/projects/{project_id}/tags", status_code=204)
def delete_project_tags(request: Request, project_id: str, ctx: RequestContext = Context) -> Response:
    with get_service(request).db.session() as session:
        project = session.get(models.Project, project_id)
        enforce(request, ctx, "identity:delete_project_tags", _target(project, project_id))
        projects.set_tags(session, get_or_404(session, models.Project, project_id), [])
    return Response(status_code=204)


@router.get("/v3/projects/{project_id}/tags/{tag}", status_code=204)
@router.head("/v3/projects/{project_id}/tags/{tag}", status_code=204)
def check_project_tag(request: Request, project_id: str, tag: str, ctx: RequestContext = Context) -> Response:
    with get_service(request).db.reader() as session:
        enforce(request, ctx, "identity:get_project_tag", _target(session.get(models.Project, project_id), project_id))
        project = get_or_404(session, models.Project, project_id)
        if tag not in (project.tags or []):
            raise NotFound(f"Tag {tag} not found for project {project_id}.")
    return Response(status_code=204)


@router.put("/v3/projects/{project_id}/tags/{tag}", status_code=201)
def add_project_tag(request: Request, project_id: str, tag: str, ctx: RequestContext = Context) -> Response:
    with get_service(request).db.session() as session:
        project = session.get(models.Project, project_id)
        enforce(request, ctx, "identity:create_project_tag", _target(project, project_id))
        project = get_or_404(session, models.Project, project_id)
        projects.add_tag(session, project, tag)
    location = entity_links(request, f"projects/{project_id}/tags/{tag}")["self"]
    return Response(status_code=201, headers={"Location": location})  # no body, as Keystone's


@router.delete("/v3/projects/{project_id}/tags/{tag}", status_code=204)
def delete_project_tag(request: Request, project_id: str, tag: str, ctx: RequestContext = Context) -> Response:
    with get_service(request).db.session() as session:
        project = session.get(models.Project, project_id)
        enforce(request, ctx, "identity:delete_project_tag", _target(project, project_id))
        projects.remove_tag(session, get_or_404(session, models.Project, project_id), tag)
    return Response(status_code=204)


@router.get("/v3/users/{user_id}/projects")
def list_user_projects(
    request: Request,
    user_id: str,
    ctx: RequestContext = Context,
    domain_id: str | None = None,
    name: str | None = None,
    enabled: str | None = None,
) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_user_projects", {"user_id": user_id})
    want_enabled = query_bool(enabled, "enabled")
    with get_service(request).db.reader() as session:
        get_or_404(session, models.User, user_id)
        entries = role_assignments.collect(session, role_assignments.Filters(user_id=user_id, effective=True))
        ids = {e.target_id for e in entries if e.target_kind == "project"}
        stmt = sa.select(models.Project).where(models.Project.id.in_(ids)).order_by(models.Project.name)
        if domain_id is not None:
            stmt = stmt.where(models.Project.domain_id == domain_id)
        if name is not None:
            stmt = stmt.where(models.Project.name == name)
        if want_enabled is not None:
            stmt = stmt.where(models.Project.enabled.is_(want_enabled))
        rows = [render(request, p) for p in session.scalars(stmt)]
        return collection(request, "projects", rows)
