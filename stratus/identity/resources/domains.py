"""Domains: create, update, and delete (only when disabled, taking everything in the domain with it)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.orm import Session

from stratus.core.exceptions import Conflict, Forbidden
from stratus.identity import models, revocation
from stratus.identity.resources import groups as group_ops
from stratus.identity.resources import projects as project_ops
from stratus.identity.resources import roles as role_ops
from stratus.identity.resources import users as user_ops
from stratus.identity.resources.common import (
    Body,
    OptionalShortName,
    ShortName,
    flush_unique,
    merge_extra,
    pop_matching_id,
    reject_reserved,
)

RESERVED = ("id", "links")


class DomainCreate(Body):
    name: str = ShortName
    description: str | None = None
    enabled: bool = True
    tags: list[str] = []
    explicit_domain_id: str | None = Field(default=None, min_length=1, max_length=64)


class DomainUpdate(Body):
    name: str = OptionalShortName
    description: str | None = None
    enabled: bool = True
    tags: list[str] = []


def to_dict(domain: models.Domain) -> dict[str, Any]:
    return {
        **(domain.extra or {}),
        "id": domain.id,
        "name": domain.name,
        "description": domain.description,
        "enabled": domain.enabled,
        "tags": list(domain.tags or []),
        "options": {},
    }


def _check_name_free(session: Session, name: str, own_id: str | None = None) -> None:
    stmt = sa.select(models.Domain.id).where(sa.func.lower(models.Domain.name) == name.lower())
    found = session.scalar(stmt)
    if found is not None and found != own_id:
        raise Conflict(f"Conflict occurred attempting to store domain - Duplicate entry found with name {name}.")


def create(session: Session, body: DomainCreate) -> models.Domain:
    extras = body.extras()
    reject_reserved(extras, RESERVED)
    _check_name_free(session, body.name)
    domain = models.Domain(
        name=body.name,
        description=body.description if "description" in body.model_fields_set else "",  # Keystone's default
        enabled=body.enabled,
        tags=body.tags,
        extra=extras,
    )
    if body.explicit_domain_id:
        if session.get(models.Domain, body.explicit_domain_id) is not None:
            raise Conflict(f"Conflict occurred attempting to store domain - Duplicate ID {body.explicit_domain_id}.")
        domain.id = body.explicit_domain_id
    session.add(domain)
    flush_unique(session, "domain")
    return domain


def update(session: Session, domain: models.Domain, body: DomainUpdate) -> bool:
    """Apply a PATCH; True when the domain was disabled by it (its tokens must be revoked)."""
    given, extras = body.given(), body.extras()
    pop_matching_id(extras, domain.id)
    reject_reserved(extras, RESERVED)
    if "name" in given and given["name"] != domain.name:
        _check_name_free(session, given["name"], domain.id)
    was_enabled = domain.enabled
    for key, value in given.items():
        setattr(domain, key, value)
    if extras:
        domain.extra = merge_extra(domain.extra, extras)
    flush_unique(session, "domain")
    disabled = was_enabled and not domain.enabled
    if disabled:
        revocation.revoke(session, domain_id=domain.id)
    return disabled


def delete(session: Session, domain: models.Domain) -> None:
    """Delete a disabled domain with its projects, users, groups, domain roles and their grants."""
    if domain.enabled:
        raise Forbidden("Cannot delete a domain that is enabled, please disable it first.")
    for group in session.scalars(sa.select(models.Group).where(models.Group.domain_id == domain.id)).all():
        group_ops.delete(session, group)
    for user in session.scalars(sa.select(models.User).where(models.User.domain_id == domain.id)).all():
        user_ops.delete(session, user)
    project_ops.delete_all_in_domain(session, domain.id)
    session.execute(sa.delete(models.DomainConfig).where(models.DomainConfig.domain_id == domain.id))
    for role in session.scalars(sa.select(models.Role).where(models.Role.domain_id == domain.id)).all():
        role_ops.delete(session, role)
    session.execute(sa.delete(models.Assignment).where(models.Assignment.target_id == domain.id))
    revocation.revoke(session, domain_id=domain.id)
    session.delete(domain)
    session.flush()
