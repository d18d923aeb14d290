"""Users: creation with a bcrypt password, updates, deletion, and self-service password change."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest, Conflict, Unauthorized
from stratus.identity import models, revocation
from stratus.identity.assignments import USER_TYPES
from stratus.identity.resources import grants
from stratus.identity.resources.common import (
    Body,
    Name,
    OptionalName,
    flush_unique,
    get_or_404,
    merge_extra,
    pop_matching_id,
    reject_reserved,
    require_ref,
)
from stratus.identity.resources.passwords import check_password, hash_password

RESERVED = ("id", "links", "password_expires_at")


class UserCreate(Body):
    name: str = Name
    domain_id: str | None = None
    password: str | None = None
    enabled: bool = True
    default_project_id: str | None = None
    description: str | None = None
    options: dict[str, Any] = {}


class UserUpdate(Body):
    name: str = OptionalName
    password: str | None = None
    enabled: bool = True
    default_project_id: str | None = None
    description: str | None = None
    options: dict[str, Any] = {}


class PasswordChange(Body):
    password: str
    original_password: str


def to_dict(user: models.User) -> dict[str, Any]:
    data = {
        **(user.extra or {}),
        "id": user.id,
        "name": user.name,
        "domain_id": user.domain_id,
        "enabled": user.enabled,
        "password_expires_at": None,
        "options": dict(user.options or {}),
    }
    if user.default_project_id:
        data["default_project_id"] = user.default_project_id
    if user.description is not None:
        data["description"] = user.description
    return data


def _check_name_free(session: Session, domain_id: str, name: str, own_id: str | None = None) -> None:
    stmt = sa.select(models.User.id).where(models.User.domain_id == domain_id, models.User.name == name)
    found = session.scalar(stmt)
    if found is not None and found != own_id:
        raise Conflict(
            f"Conflict occurred attempting to store user - Duplicate entry found with name {name} "
            f"at domain ID {domain_id}."
        )


def _check_default_project(session: Session, project_id: str | None) -> None:
    if project_id is not None:
        require_ref(session, models.Project, project_id, "default_project_id")


def _set_password(user: models.User, password: str, rounds: int) -> None:
    user.password_hash = hash_password(password, rounds)
    user.password_created_at = utcnow()
    user.password_expires_at = None


def create(session: Session, body: UserCreate, default_domain_id: str, hash_rounds: int) -> models.User:
    extras = body.extras()
    reject_reserved(extras, RESERVED)
    domain_id = body.domain_id or default_domain_id
    get_or_404(session, models.Domain, domain_id)  # as Keystone: an unknown domain is a 404 here
    _check_default_project(session, body.default_project_id)
    _check_name_free(session, domain_id, body.name)
    user = models.User(
        name=body.name,
        domain_id=domain_id,
        enabled=body.enabled,
        default_project_id=body.default_project_id,
        description=body.description,
        options={},
        extra=extras,
    )
    if body.password is not None:
        _set_password(user, body.password, hash_rounds)
    session.add(user)
    flush_unique(session, "user")
    return user


def update(session: Session, user: models.User, body: UserUpdate, hash_rounds: int) -> bool:
    """Apply a PATCH; a new password or disabling the user revokes its tokens (returns True then)."""
    given, extras = body.given(), body.extras()
    pop_matching_id(extras, user.id)
    if "domain_id" in extras:
        if extras.pop("domain_id") != user.domain_id:
            raise BadRequest("Update of domain_id is not allowed.")
    reject_reserved(extras, RESERVED)
    given.pop("options", None)
    if "name" in given:
        _check_name_free(session, user.domain_id, given["name"], user.id)
    if "default_project_id" in given:
        _check_default_project(session, given["default_project_id"])
    was_enabled = user.enabled
    password = given.pop("password", None)
    for key, value in given.items():
        setattr(user, key, value)
    if extras:
        user.extra = merge_extra(user.extra, extras)
    if password is not None:
        _set_password(user, password, hash_rounds)
    flush_unique(session, "user")
    revoked = password is not None or (was_enabled and not user.enabled)
    if revoked:
        revocation.revoke(session, user_id=user.id)
    return revoked


def change_own_password(session: Session, user: models.User, body: PasswordChange, hash_rounds: int) -> None:
    """A user changing its own password: the original must match (else 401); old tokens are revoked."""
    if not check_password(body.original_password, user.password_hash):
        raise Unauthorized("The request you have made requires authentication.")
    _set_password(user, body.password, hash_rounds)
    revocation.revoke(session, user_id=user.id)
    session.flush()


def delete(session: Session, user: models.User) -> None:
    """Delete the user with its memberships, grants and (application) credentials; revoke its tokens."""
    grants.delete_where(
        session,
        models.Assignment.type.in_(USER_TYPES),
        models.Assignment.actor_id == user.id,
        revoke=False,
    )
    session.execute(sa.delete(models.UserGroupMembership).where(models.UserGroupMembership.user_id == user.id))
    session.execute(sa.delete(models.ApplicationCredential).where(models.ApplicationCredential.user_id == user.id))
    session.execute(sa.delete(models.Credential).where(models.Credential.user_id == user.id))
    revocation.revoke(session, user_id=user.id)
    session.delete(user)
    session.flush()
