"""Roles (global or domain-specific) and implied roles."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.exceptions import BadRequest, Conflict, Forbidden, NotFound
from stratus.identity import models
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

NULL_DOMAIN_ID = models.NULL_DOMAIN_ID
RESERVED = ("id", "links")


class RoleCreate(Body):
    name: str = Name
    domain_id: str | None = None
    description: str | None = None
    options: dict[str, Any] = {}


class RoleUpdate(Body):
    name: str = OptionalName
    description: str | None = None
    options: dict[str, Any] = {}


def api_domain_id(role: models.Role) -> str | None:
    return None if role.domain_id == NULL_DOMAIN_ID else role.domain_id


def to_dict(role: models.Role) -> dict[str, Any]:
    return {
        **(role.extra or {}),
        "id": role.id,
        "name": role.name,
        "domain_id": api_domain_id(role),
        "description": role.description,
        "options": dict(role.options or {}),
    }


def _check_options(options: dict[str, Any]) -> dict[str, Any]:
    for key, value in options.items():
        if key != "immutable":
            raise BadRequest(f"Invalid role option {key!r}; only 'immutable' is known.")
        if not isinstance(value, bool):
            raise BadRequest("Invalid value for role option 'immutable': it must be a boolean.")
    return options


def _check_name_free(session: Session, domain_id: str, name: str, own_id: str | None = None) -> None:
    stmt = sa.select(models.Role.id).where(models.Role.domain_id == domain_id, models.Role.name == name)
    found = session.scalar(stmt)
    if found is not None and found != own_id:
        raise Conflict(f"Conflict occurred attempting to store role - Duplicate entry found with name {name}.")


def create(session: Session, body: RoleCreate) -> models.Role:
    extras = body.extras()
    reject_reserved(extras, RESERVED)
    domain_id = body.domain_id or NULL_DOMAIN_ID
    if body.domain_id is not None:
        require_ref(session, models.Domain, body.domain_id, "domain_id")
    _check_name_free(session, domain_id, body.name)
    role = models.Role(
        name=body.name,
        domain_id=domain_id,
        description=body.description,
        options=_check_options(body.options),
        extra=extras,
    )
    session.add(role)
    flush_unique(session, "role")
    return role


def _check_mutable(role: models.Role) -> None:
    if (role.options or {}).get("immutable"):
        raise Forbidden(f"Cannot modify or delete immutable role {role.id}; remove the immutable option first.")


def update(session: Session, role: models.Role, body: RoleUpdate) -> None:
    given, extras = body.given(), body.extras()
    pop_matching_id(extras, role.id)
    if "domain_id" in extras and extras.pop("domain_id") != api_domain_id(role):
        raise BadRequest("Update of domain_id is not allowed.")
    reject_reserved(extras, RESERVED)
    options = _check_options(given.pop("options", None) or {})
    if (role.options or {}).get("immutable") and options.get("immutable") is not False:
        _check_mutable(role)
    if "name" in given:
        _check_name_free(session, role.domain_id, given["name"], role.id)
    for key, value in given.items():
        setattr(role, key, value)
    if options:
        role.options = {**(role.options or {}), **options}
    if extras:
        role.extra = merge_extra(role.extra, extras)
    flush_unique(session, "role")


def delete(session: Session, role: models.Role) -> None:
    """Delete the role with its grants and implications, revoking the tokens of its holders."""
    _check_mutable(role)
    grants.delete_where(session, models.Assignment.role_id == role.id)
    session.execute(
        sa.delete(models.ImpliedRole).where(
            sa.or_(models.ImpliedRole.prior_role_id == role.id, models.ImpliedRole.implied_role_id == role.id)
        )
    )
    session.delete(role)
    session.flush()


def find_global(session: Session, name: str) -> models.Role | None:
    stmt = sa.select(models.Role).where(models.Role.name == name, models.Role.domain_id == NULL_DOMAIN_ID)
    return session.scalar(stmt)


# -- implied roles ----------------------------------------------------------------------------


def implied_ids(session: Session, prior_id: str) -> list[str]:
    stmt = sa.select(models.ImpliedRole.implied_role_id).where(models.ImpliedRole.prior_role_id == prior_id)
    return sorted(session.scalars(stmt))


def _reaches(session: Session, start: str, goal: str) -> bool:
    seen, frontier = {start}, {start}
    while frontier:
        stmt = sa.select(models.ImpliedRole.implied_role_id).where(models.ImpliedRole.prior_role_id.in_(frontier))
        frontier = set(session.scalars(stmt)) - seen
        if goal in frontier:
            return True
        seen |= frontier
    return False


def create_implied(session: Session, prior_id: str, implied_id: str) -> tuple[models.Role, models.Role]:
    """Make ``prior`` imply ``implied`` (idempotent); cycles and self-implication are 400s."""
    prior, implied = get_or_404(session, models.Role, prior_id), get_or_404(session, models.Role, implied_id)
    if implied.domain_id != NULL_DOMAIN_ID and prior.domain_id == NULL_DOMAIN_ID:
        raise Forbidden(f"Domain-specific role {implied_id} cannot be implied by a global role.")
    if prior_id == implied_id or _reaches(session, implied_id, prior_id):
        raise BadRequest(f"Role {prior_id} implying {implied_id} would create a cycle of implied roles.")
    if session.get(models.ImpliedRole, (prior_id, implied_id)) is None:
        session.add(models.ImpliedRole(prior_role_id=prior_id, implied_role_id=implied_id))
        session.flush()
    return prior, implied


def get_implied(session: Session, prior_id: str, implied_id: str) -> tuple[models.Role, models.Role]:
    prior, implied = get_or_404(session, models.Role, prior_id), get_or_404(session, models.Role, implied_id)
    if session.get(models.ImpliedRole, (prior_id, implied_id)) is None:
        raise NotFound(f"{prior_id} does not imply {implied_id}.")
    return prior, implied


def delete_implied(session: Session, prior_id: str, implied_id: str) -> None:
    get_implied(session, prior_id, implied_id)
    row = session.get(models.ImpliedRole, (prior_id, implied_id))
    session.delete(row)
    session.flush()


def brief(role: models.Role, links: dict[str, str]) -> dict[str, Any]:
    """The short role shape used in implied-role responses."""
    return {"id": role.id, "name": role.name, "links": links}


def inference_rules(session: Session, prior_id: str | None = None) -> dict[str, list[str]]:
    """prior role id -> implied role ids, for one prior role or all of them."""
    stmt = sa.select(models.ImpliedRole)
    if prior_id is not None:
        stmt = stmt.where(models.ImpliedRole.prior_role_id == prior_id)
    rules: dict[str, list[str]] = {}
    for row in session.scalars(stmt):
        rules.setdefault(row.prior_role_id, []).append(row.implied_role_id)
    return {k: sorted(v) for k, v in sorted(rules.items())}
