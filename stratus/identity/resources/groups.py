"""Groups and their memberships."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.exceptions import BadRequest, Conflict, NotFound
from stratus.identity import models, revocation
from stratus.identity.assignments import GROUP_DOMAIN, GROUP_PROJECT, GROUP_SYSTEM
from stratus.identity.resources import grants
from stratus.identity.resources.common import (
    Body,
    Name,
    OptionalName,
    flush_unique,
    merge_extra,
    pop_matching_id,
    reject_reserved,
    require_ref,
)

RESERVED = ("id", "links")


class GroupCreate(Body):
    name: str = Name
    domain_id: str | None = None
    description: str | None = None


class GroupUpdate(Body):
    name: str = OptionalName
    description: str | None = None


def to_dict(group: models.Group) -> dict[str, Any]:
    return {
        **(group.extra or {}),
        "id": group.id,
        "name": group.name,
        "domain_id": group.domain_id,
        "description": group.description,
    }


def _check_name_free(session: Session, domain_id: str, name: str, own_id: str | None = None) -> None:
    stmt = sa.select(models.Group.id).where(models.Group.domain_id == domain_id, models.Group.name == name)
    found = session.scalar(stmt)
    if found is not None and found != own_id:
        raise Conflict(f"Conflict occurred attempting to store group - Duplicate entry found with name {name}.")


def create(session: Session, body: GroupCreate, default_domain_id: str) -> models.Group:
    extras = body.extras()
    reject_reserved(extras, RESERVED)
    domain_id = body.domain_id or default_domain_id
    require_ref(session, models.Domain, domain_id, "domain_id")
    _check_name_free(session, domain_id, body.name)
    group = models.Group(name=body.name, domain_id=domain_id, description=body.description, extra=extras)
    session.add(group)
    flush_unique(session, "group")
    return group


def update(session: Session, group: models.Group, body: GroupUpdate) -> None:
    given, extras = body.given(), body.extras()
    pop_matching_id(extras, group.id)
    if "domain_id" in extras and extras.pop("domain_id") != group.domain_id:
        raise BadRequest("Update of domain_id is not allowed.")
    reject_reserved(extras, RESERVED)
    if "name" in given:
        _check_name_free(session, group.domain_id, given["name"], group.id)
    for key, value in given.items():
        setattr(group, key, value)
    if extras:
        group.extra = merge_extra(group.extra, extras)
    flush_unique(session, "group")


def delete(session: Session, group: models.Group) -> None:
    """Delete the group with its grants (revoking its members' tokens) and memberships."""
    grants.delete_where(
        session,
        models.Assignment.type.in_((GROUP_PROJECT, GROUP_DOMAIN, GROUP_SYSTEM)),
        models.Assignment.actor_id == group.id,
    )
    session.execute(sa.delete(models.UserGroupMembership).where(models.UserGroupMembership.group_id == group.id))
    session.delete(group)
    session.flush()


def is_member(session: Session, group_id: str, user_id: str) -> bool:
    return session.get(models.UserGroupMembership, (user_id, group_id)) is not None


def add_member(session: Session, group_id: str, user_id: str) -> None:
    if not is_member(session, group_id, user_id):
        session.add(models.UserGroupMembership(user_id=user_id, group_id=group_id))
        session.flush()


def remove_member(session: Session, group_id: str, user_id: str) -> None:
    row = session.get(models.UserGroupMembership, (user_id, group_id))
    if row is None:
        raise NotFound(f"Could not find user: {user_id} in group {group_id}.")
    session.delete(row)
    revocation.revoke(session, user_id=user_id)
    session.flush()
