"""Role grants (assignments) on projects, domains and the system, and the revocations their removal causes."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.exceptions import NotFound
from stratus.identity import models, revocation
from stratus.identity.assignments import (
    GROUP_DOMAIN,
    GROUP_PROJECT,
    GROUP_SYSTEM,
    SYSTEM_TARGET,
    USER_DOMAIN,
    USER_PROJECT,
    USER_SYSTEM,
    USER_TYPES,
)
from stratus.identity.resources.common import get_or_404


@dataclass(frozen=True)
class GrantRef:
    """One grant as the URL names it: actor (user/group), target (project/domain), role, inherited."""

    actor_kind: str  # "user" | "group"
    actor_id: str
    target_kind: str  # "project" | "domain" | "system" (target_id is then SYSTEM_TARGET)
    target_id: str
    role_id: str
    inherited: bool = False

    @property
    def type(self) -> str:
        return {
            ("user", "project"): USER_PROJECT,
            ("group", "project"): GROUP_PROJECT,
            ("user", "domain"): USER_DOMAIN,
            ("group", "domain"): GROUP_DOMAIN,
            ("user", "system"): USER_SYSTEM,
            ("group", "system"): GROUP_SYSTEM,
        }[(self.actor_kind, self.target_kind)]


def system_grant(actor_kind: str, actor_id: str, role_id: str = "") -> GrantRef:
    """A grant on the system (Keystone's ``/v3/system/{users,groups}/{id}/roles/{role_id}``)."""
    return GrantRef(actor_kind, actor_id, "system", SYSTEM_TARGET, role_id)


def _check_target(session: Session, target_kind: str, target_id: str) -> None:
    if target_kind != "system":
        get_or_404(session, models.Project if target_kind == "project" else models.Domain, target_id)


def member_ids(session: Session, group_id: str) -> list[str]:
    stmt = sa.select(models.UserGroupMembership.user_id).where(models.UserGroupMembership.group_id == group_id)
    return list(session.scalars(stmt))


def group_ids(session: Session, user_id: str) -> list[str]:
    stmt = sa.select(models.UserGroupMembership.group_id).where(models.UserGroupMembership.user_id == user_id)
    return list(session.scalars(stmt))


def check_refs(session: Session, ref: GrantRef) -> None:
    """404 when the actor, the target or the role does not exist."""
    get_or_404(session, models.User if ref.actor_kind == "user" else models.Group, ref.actor_id)
    _check_target(session, ref.target_kind, ref.target_id)
    get_or_404(session, models.Role, ref.role_id)


def _row(session: Session, ref: GrantRef) -> models.Assignment | None:
    return session.get(models.Assignment, (ref.type, ref.actor_id, ref.target_id, ref.role_id, ref.inherited))


def create(session: Session, ref: GrantRef) -> None:
    """Grant the role (idempotent, as Keystone's PUT)."""
    check_refs(session, ref)
    if _row(session, ref) is None:
        session.add(
            models.Assignment(
                type=ref.type,
                actor_id=ref.actor_id,
                target_id=ref.target_id,
                role_id=ref.role_id,
                inherited=ref.inherited,
            )
        )
        session.flush()


def exists(session: Session, ref: GrantRef) -> bool:
    check_refs(session, ref)
    return _row(session, ref) is not None


def check(session: Session, ref: GrantRef) -> None:
    if not exists(session, ref):
        raise NotFound(f"Could not find role assignment with role: {ref.role_id}, {ref.actor_kind}: {ref.actor_id}.")


def list_role_ids(session: Session, actor_kind: str, actor_id: str, target_kind: str, target_id: str, inherited: bool):
    """Role ids directly granted to the actor on the target."""
    get_or_404(session, models.User if actor_kind == "user" else models.Group, actor_id)
    _check_target(session, target_kind, target_id)
    probe = GrantRef(actor_kind, actor_id, target_kind, target_id, "", inherited)
    stmt = sa.select(models.Assignment.role_id).where(
        models.Assignment.type == probe.type,
        models.Assignment.actor_id == actor_id,
        models.Assignment.target_id == target_id,
        models.Assignment.inherited.is_(inherited),
    )
    return list(session.scalars(stmt))


def delete(session: Session, ref: GrantRef) -> None:
    """Remove the grant and revoke the tokens it supported."""
    row = _row(session, ref) if exists(session, ref) else None
    if row is None:
        raise NotFound(f"Could not find role assignment with role: {ref.role_id}, {ref.actor_kind}: {ref.actor_id}.")
    session.delete(row)
    if ref.target_kind == "system":
        # Revocation events cannot single out system-scoped tokens; those are re-checked at validation
        # instead (a token whose user has no role left on the system is no longer valid).
        session.flush()
        return
    users = [ref.actor_id] if ref.actor_kind == "user" else member_ids(session, ref.actor_id)
    scope = {"project_id": ref.target_id} if ref.target_kind == "project" and not ref.inherited else {}
    if ref.target_kind == "domain" and not ref.inherited:
        scope = {"domain_id": ref.target_id}
    for user_id in users:
        # An inherited grant reaches every project below its target: revoke all of the user's tokens.
        revocation.revoke(session, user_id=user_id, **scope)
    session.flush()


def revoke_rows(session: Session, rows: list[models.Assignment]) -> None:
    """Revoke the tokens of everyone holding one of these (about to be deleted) assignments."""
    users: set[str] = set()
    for row in rows:
        if row.type in USER_TYPES:
            users.add(row.actor_id)
        else:
            users.update(member_ids(session, row.actor_id))
    for user_id in sorted(users):
        revocation.revoke(session, user_id=user_id)


def delete_where(session: Session, *conds: sa.ColumnElement[bool], revoke: bool = True) -> None:
    """Delete the assignments matching ``conds`` (revoking their holders' tokens)."""
    rows = list(session.scalars(sa.select(models.Assignment).where(*conds)))
    if revoke:
        revoke_rows(session, rows)
    for row in rows:
        session.delete(row)
    session.flush()
