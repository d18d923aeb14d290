"""Projects: hierarchy (parent_id), tags, and deletion with the project's grants."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.orm import Session

from stratus.core.exceptions import BadRequest, Conflict, Forbidden, NotFound
from stratus.identity import models, revocation
from stratus.identity.assignments import GROUP_PROJECT, USER_PROJECT
from stratus.identity.resources import grants
from stratus.identity.resources.common import (
    Body,
    OptionalShortName,
    ShortName,
    flush_unique,
    merge_extra,
    pop_matching_id,
    reject_reserved,
    require_ref,
)

RESERVED = ("id", "links")
Tag = Field(min_length=1, max_length=255)


class ProjectCreate(Body):
    name: str = ShortName
    domain_id: str | None = None
    parent_id: str | None = None
    description: str | None = None
    enabled: bool = True
    is_domain: bool = False
    tags: list[str] = Field(default_factory=list, max_length=80)
    options: dict[str, Any] = {}


class ProjectUpdate(Body):
    name: str = OptionalShortName
    description: str | None = None
    enabled: bool = True
    tags: list[str] = Field(default_factory=list, max_length=80)
    options: dict[str, Any] = {}


def to_dict(project: models.Project) -> dict[str, Any]:
    return {
        **(project.extra or {}),
        "id": project.id,
        "name": project.name,
        "domain_id": project.domain_id,
        "description": project.description,
        "enabled": project.enabled,
        "parent_id": project.parent_id or project.domain_id,
        "is_domain": False,
        "tags": list(project.tags or []),
        "options": {},
    }


def domain_as_project(domain: models.Domain) -> dict[str, Any]:
    """A domain seen through the projects API (Keystone stores domains as projects with is_domain)."""
    return {
        **(domain.extra or {}),
        "id": domain.id,
        "name": domain.name,
        "domain_id": None,
        "description": domain.description,
        "enabled": domain.enabled,
        "parent_id": None,
        "is_domain": True,
        "tags": list(domain.tags or []),
        "options": {},
    }


def create_domain(session: Session, body: ProjectCreate) -> models.Domain:
    """``POST /v3/projects`` with ``is_domain: true``: the project is a new domain."""
    from stratus.identity.resources import domains

    if body.domain_id is not None or body.parent_id is not None:
        raise BadRequest("A project acting as a domain cannot have a domain_id or a parent_id.")
    fields = {k: getattr(body, k) for k in ("name", "description", "enabled", "tags") if k in body.model_fields_set}
    return domains.create(session, domains.DomainCreate(**fields, **body.extras()))


def update_domain(session: Session, domain: models.Domain, body: ProjectUpdate) -> bool:
    """``PATCH /v3/projects/{id}`` of a domain; True when it was disabled (its tokens must be revoked)."""
    from stratus.identity.resources import domains

    given, extras = body.given(), body.extras()
    pop_matching_id(extras, domain.id)
    if extras.pop("is_domain", True) is not True or extras.pop("domain_id", None) is not None:
        raise BadRequest("Update of is_domain or domain_id is not allowed.")
    extras.pop("parent_id", None)
    given.pop("options", None)
    return domains.update(session, domain, domains.DomainUpdate(**given, **extras))


def _check_tags(tags: list[str]) -> None:
    for tag in tags:
        if not tag or len(tag) > 255 or "/" in tag or "," in tag:
            raise BadRequest(f"Invalid tag {tag!r}: tags are 1-255 characters without '/' or ','.")


MAX_TAGS = 80


def set_tags(session: Session, project: models.Project, tags: list[str]) -> list[str]:
    """Replace the project's tags (``PUT /v3/projects/{id}/tags``); duplicates are kept once."""
    if len(tags) > MAX_TAGS:
        raise BadRequest(f"A project can have at most {MAX_TAGS} tags.")
    _check_tags(tags)
    project.tags = list(dict.fromkeys(tags))
    session.flush()
    return list(project.tags)


def add_tag(session: Session, project: models.Project, tag: str) -> list[str]:
    """Add one tag (idempotent, as ``PUT /v3/projects/{id}/tags/{tag}``)."""
    current = list(project.tags or [])
    if tag not in current:
        return set_tags(session, project, [*current, tag])
    _check_tags([tag])
    return current


def remove_tag(session: Session, project: models.Project, tag: str) -> None:
    current = list(project.tags or [])
    if tag not in current:
        raise NotFound(f"Tag {tag} not found for project {project.id}.")
    project.tags = [t for t in current if t != tag]
    session.flush()


def _check_name_free(session: Session, domain_id: str, name: str, own_id: str | None = None) -> None:
    stmt = sa.select(models.Project.id).where(models.Project.domain_id == domain_id, models.Project.name == name)
    found = session.scalar(stmt)
    if found is not None and found != own_id:
        raise Conflict(
            f"Conflict occurred attempting to store project - it is not permitted to have two projects "
            f"with the same name in the same domain : {name}."
        )


def create(session: Session, body: ProjectCreate, default_domain_id: str) -> models.Project:
    extras = body.extras()
    reject_reserved(extras, RESERVED)
    _check_tags(body.tags)
    domain_id = body.domain_id
    parent_id = body.parent_id
    if parent_id is not None and session.get(models.Domain, parent_id) is not None:
        domain_id, parent_id = domain_id or parent_id, None  # Keystone's top-level parent is the domain
        if domain_id != body.parent_id:
            raise BadRequest("The parent_id must be a project of the same domain, or the domain itself.")
    if parent_id is not None:
        parent = require_ref(session, models.Project, parent_id, "parent_id")
        if domain_id is not None and domain_id != parent.domain_id:
            raise BadRequest("Cannot create a project whose parent is in a different domain.")
        domain_id = parent.domain_id
    domain_id = domain_id or default_domain_id
    require_ref(session, models.Domain, domain_id, "domain_id")
    _check_name_free(session, domain_id, body.name)
    project = models.Project(
        name=body.name,
        domain_id=domain_id,
        parent_id=parent_id,
        description=body.description,
        enabled=body.enabled,
        tags=body.tags,
        extra=extras,
    )
    session.add(project)
    flush_unique(session, "project")
    return project


def update(session: Session, project: models.Project, body: ProjectUpdate) -> None:
    """Apply a PATCH; disabling a project revokes the tokens scoped to it."""
    given, extras = body.given(), body.extras()
    pop_matching_id(extras, project.id)
    for key in ("domain_id", "parent_id", "is_domain"):
        if key in extras and extras[key] != getattr(project, key, False if key == "is_domain" else None):
            if not (key == "parent_id" and extras[key] == (project.parent_id or project.domain_id)):
                raise BadRequest(f"Update of {key} is not allowed.")
        extras.pop(key, None)
    reject_reserved(extras, RESERVED)
    given.pop("options", None)
    if "tags" in given:
        _check_tags(given["tags"])
    if "name" in given:
        _check_name_free(session, project.domain_id, given["name"], project.id)
    was_enabled = project.enabled
    for key, value in given.items():
        setattr(project, key, value)
    if extras:
        project.extra = merge_extra(project.extra, extras)
    flush_unique(session, "project")
    if was_enabled and not project.enabled:
        revocation.revoke(session, project_id=project.id)


def children_ids(session: Session, project_id: str) -> list[str]:
    return list(session.scalars(sa.select(models.Project.id).where(models.Project.parent_id == project_id)))


def subtree_ids(session: Session, project_id: str) -> list[str]:
    """The project's descendants (not the project itself), breadth first."""
    result: list[str] = []
    frontier = [project_id]
    while frontier:
        found = list(session.scalars(sa.select(models.Project.id).where(models.Project.parent_id.in_(frontier))))
        found = [f for f in found if f not in result]
        result.extend(found)
        frontier = found
    return result


def delete(session: Session, project: models.Project) -> None:
    """Delete a leaf project with its grants; tokens scoped to it are revoked."""
    if children_ids(session, project.id):
        raise Forbidden(f"Cannot delete project {project.id}: it has child projects; delete them first.")
    _delete_rows(session, [project.id])
    session.delete(project)
    session.flush()


def _delete_rows(session: Session, project_ids: list[str]) -> None:
    grants.delete_where(
        session,
        models.Assignment.type.in_((USER_PROJECT, GROUP_PROJECT)),
        models.Assignment.target_id.in_(project_ids),
        revoke=False,
    )
    for project_id in project_ids:
        revocation.revoke(session, project_id=project_id)


def delete_all_in_domain(session: Session, domain_id: str) -> None:
    """Delete every project of a domain (children before parents)."""
    ids = list(session.scalars(sa.select(models.Project.id).where(models.Project.domain_id == domain_id)))
    if not ids:
        return
    _delete_rows(session, ids)
    session.execute(sa.update(models.Project).where(models.Project.id.in_(ids)).values(parent_id=None))
    session.execute(sa.delete(models.Project).where(models.Project.id.in_(ids)))
    session.flush()
