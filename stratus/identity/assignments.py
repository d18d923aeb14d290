"""Effective roles: direct and group grants, domain grants inherited to projects, implied roles.

System role assignments (Keystone's ``/v3/system/...``) live in the same table, with type
``UserSystem``/``GroupSystem`` and the target id ``system`` (Keystone's only system, "all").
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.identity.models import NULL_DOMAIN_ID, Assignment, ImpliedRole, Project, Role, UserGroupMembership

USER_PROJECT, GROUP_PROJECT = "UserProject", "GroupProject"
USER_DOMAIN, GROUP_DOMAIN = "UserDomain", "GroupDomain"
USER_SYSTEM, GROUP_SYSTEM = "UserSystem", "GroupSystem"
SYSTEM_TARGET = "system"
"""The target id of a system assignment: Keystone has one system, ``{"all": true}``."""
USER_TYPES = (USER_PROJECT, USER_DOMAIN, USER_SYSTEM)
PROJECT_TYPES = (USER_PROJECT, GROUP_PROJECT)
DOMAIN_TYPES = (USER_DOMAIN, GROUP_DOMAIN)
SYSTEM_TYPES = (USER_SYSTEM, GROUP_SYSTEM)


def group_ids_of(session: Session, user_id: str) -> list[str]:
    stmt = sa.select(UserGroupMembership.group_id).where(UserGroupMembership.user_id == user_id)
    return list(session.scalars(stmt))


def expand_implied(session: Session, role_ids: set[str]) -> set[str]:
    """Add every role implied (transitively) by ``role_ids``."""
    result, frontier = set(role_ids), set(role_ids)
    while frontier:
        stmt = sa.select(ImpliedRole.implied_role_id).where(ImpliedRole.prior_role_id.in_(frontier))
        frontier = set(session.scalars(stmt)) - result
        result |= frontier
    return result


def direct_role_ids(
    session: Session,
    user_id: str,
    *,
    project_id: str | None = None,
    domain_id: str | None = None,
    system: bool = False,
) -> set[str]:
    """Roles granted to the user (or its groups) on the target, before implied-role expansion.

    For a project this includes roles granted on its domain (and ancestors) with inherited=True.
    """
    actors = [user_id, *group_ids_of(session, user_id)]
    conds = []
    if project_id is not None:
        conds.append(
            sa.and_(
                Assignment.type.in_((USER_PROJECT, GROUP_PROJECT)),
                Assignment.target_id == project_id,
                Assignment.inherited.is_(False),
            )
        )
        inherited_targets = _ancestors_and_domain(session, project_id)
        if inherited_targets:
            conds.append(sa.and_(Assignment.target_id.in_(inherited_targets), Assignment.inherited.is_(True)))
    if domain_id is not None:
        conds.append(
            sa.and_(
                Assignment.type.in_((USER_DOMAIN, GROUP_DOMAIN)),
                Assignment.target_id == domain_id,
                Assignment.inherited.is_(False),
            )
        )
    if system:
        conds.append(sa.and_(Assignment.type.in_(SYSTEM_TYPES), Assignment.target_id == SYSTEM_TARGET))
    if not conds:
        return set()
    stmt = sa.select(Assignment.role_id).where(Assignment.actor_id.in_(actors), sa.or_(*conds))
    return set(session.scalars(stmt))


def effective_role_ids(
    session: Session,
    user_id: str,
    *,
    project_id: str | None = None,
    domain_id: str | None = None,
    system: bool = False,
) -> set[str]:
    """All role ids the user holds on the project, domain or system, implied roles included.

    Domain-specific roles only serve to imply global ones: as in Keystone, they are never effective.
    """
    direct = direct_role_ids(session, user_id, project_id=project_id, domain_id=domain_id, system=system)
    return drop_domain_specific(session, expand_implied(session, direct))


def drop_domain_specific(session: Session, role_ids: set[str]) -> set[str]:
    if not role_ids:
        return role_ids
    stmt = sa.select(Role.id).where(Role.id.in_(role_ids), Role.domain_id != NULL_DOMAIN_ID)
    return role_ids - set(session.scalars(stmt))


def _ancestors_and_domain(session: Session, project_id: str) -> list[str]:
    targets: list[str] = []
    current = session.get(Project, project_id)
    seen: set[str] = set()
    while current is not None and current.id not in seen:
        seen.add(current.id)
        if current.parent_id:
            targets.append(current.parent_id)
            current = session.get(Project, current.parent_id)
        else:
            targets.append(current.domain_id)
            break
    return targets
