"""GET /v3/role_assignments: direct grants, or effective ones (groups, inheritance, implied roles expanded)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.exceptions import BadRequest
from stratus.identity import models
from stratus.identity.assignments import DOMAIN_TYPES, PROJECT_TYPES, USER_TYPES, drop_domain_specific
from stratus.identity.resources import grants, projects


@dataclass(frozen=True)
class Filters:
    user_id: str | None = None
    group_id: str | None = None
    project_id: str | None = None
    domain_id: str | None = None
    system: bool = False
    role_id: str | None = None
    inherited: bool | None = None
    effective: bool = False
    include_names: bool = False
    include_subtree: bool = False


@dataclass(frozen=True)
class Entry:
    """One (possibly derived) assignment, with the URLs that explain where it comes from."""

    role_id: str
    actor_kind: str
    actor_id: str
    target_kind: str
    target_id: str
    inherited: bool
    assignment: str  # path of the grant it comes from
    membership: str | None = None
    prior_role: str | None = None


def validate(f: Filters) -> None:
    if f.effective and f.group_id:
        raise BadRequest("Combining effective and group filter will always result in an empty list.")
    if f.effective and f.inherited and f.domain_id:
        raise BadRequest("Combining effective, domain and inherited filters will always result in an empty list.")
    if f.include_subtree and not f.project_id:
        raise BadRequest("scope.project.id must be specified if include_subtree is also specified.")
    if sum((bool(f.project_id), bool(f.domain_id), f.system)) > 1:
        raise BadRequest("Specify only one of scope.project.id, scope.domain.id and scope.system.")
    if f.user_id and f.group_id:
        raise BadRequest("Specify only one of user.id and group.id.")


def _target_kind(row: models.Assignment) -> str:
    return "project" if row.type in PROJECT_TYPES else "domain" if row.type in DOMAIN_TYPES else "system"


def _grant_path(row: models.Assignment) -> str:
    actor = "users" if row.type in USER_TYPES else "groups"
    if _target_kind(row) == "system":
        return f"system/{actor}/{row.actor_id}/roles/{row.role_id}"
    target = "projects" if row.type in PROJECT_TYPES else "domains"
    path = f"{target}/{row.target_id}/{actor}/{row.actor_id}/roles/{row.role_id}"
    return f"OS-INHERIT/{path}/inherited_to_projects" if row.inherited else path


def _direct(row: models.Assignment) -> Entry:
    return Entry(
        role_id=row.role_id,
        actor_kind="user" if row.type in USER_TYPES else "group",
        actor_id=row.actor_id,
        target_kind=_target_kind(row),
        target_id=row.target_id,
        inherited=row.inherited,
        assignment=_grant_path(row),
    )


def _expand_groups(session: Session, entries: list[Entry]) -> list[Entry]:
    out: list[Entry] = []
    for e in entries:
        if e.actor_kind == "user":
            out.append(e)
            continue
        for user_id in grants.member_ids(session, e.actor_id):
            out.append(
                replace(e, actor_kind="user", actor_id=user_id, membership=f"groups/{e.actor_id}/users/{user_id}")
            )
    return out


def _expand_inherited(session: Session, entries: list[Entry]) -> list[Entry]:
    out: list[Entry] = []
    for e in entries:
        if not e.inherited:
            out.append(e)
            continue
        if e.target_kind == "domain":
            stmt = sa.select(models.Project.id).where(models.Project.domain_id == e.target_id)
            targets = list(session.scalars(stmt))
        else:
            targets = projects.subtree_ids(session, e.target_id)
        out.extend(replace(e, target_kind="project", target_id=p, inherited=False) for p in targets)
    return out


def _expand_implied(session: Session, entries: list[Entry]) -> list[Entry]:
    rules: dict[str, list[str]] = {}
    for row in session.scalars(sa.select(models.ImpliedRole)):
        rules.setdefault(row.prior_role_id, []).append(row.implied_role_id)
    out: list[Entry] = []
    for e in entries:
        out.append(e)
        seen = {e.role_id}
        frontier = [(e.role_id, implied) for implied in rules.get(e.role_id, [])]
        while frontier:
            prior, implied = frontier.pop(0)
            if implied in seen:
                continue
            seen.add(implied)
            out.append(replace(e, role_id=implied, prior_role=f"roles/{prior}/implies/{implied}"))
            frontier.extend((implied, nxt) for nxt in rules.get(implied, []))
    return out


def _matches(e: Entry, f: Filters, project_ids: set[str] | None) -> bool:
    if f.user_id and (e.actor_kind, e.actor_id) != ("user", f.user_id):
        return False
    if f.group_id and (e.actor_kind, e.actor_id) != ("group", f.group_id):
        return False
    if f.role_id and e.role_id != f.role_id:
        return False
    if project_ids is not None and (e.target_kind != "project" or e.target_id not in project_ids):
        return False
    if f.domain_id and (e.target_kind, e.target_id) != ("domain", f.domain_id):
        return False
    if f.system and e.target_kind != "system":
        return False
    return f.inherited is None or e.inherited == f.inherited


def collect(session: Session, f: Filters) -> list[Entry]:
    """The matching assignments, in a stable order."""
    validate(f)
    stmt = sa.select(models.Assignment)
    if f.user_id:  # only the user's own grants and those of its groups can match
        stmt = stmt.where(models.Assignment.actor_id.in_([f.user_id, *grants.group_ids(session, f.user_id)]))
    elif f.group_id:
        stmt = stmt.where(models.Assignment.actor_id == f.group_id)
    if f.role_id and not f.effective:
        stmt = stmt.where(models.Assignment.role_id == f.role_id)
    rows = list(session.scalars(stmt))
    entries = [_direct(r) for r in rows]
    if f.effective:
        entries = _expand_implied(session, _expand_inherited(session, _expand_groups(session, entries)))
        global_ids = drop_domain_specific(session, {e.role_id for e in entries})
        entries = [e for e in entries if e.role_id in global_ids]  # domain-specific roles are never effective
    project_ids: set[str] | None = None
    if f.project_id:
        project_ids = {f.project_id}
        if f.include_subtree:
            project_ids |= set(projects.subtree_ids(session, f.project_id))
    result = [e for e in entries if _matches(e, f, project_ids)]
    unique = list(dict.fromkeys(result))
    unique.sort(key=lambda e: (e.actor_kind, e.actor_id, e.target_kind, e.target_id, e.role_id, e.inherited))
    return unique


def _named(session: Session, model: type, entity_id: str, with_domain: bool) -> dict[str, Any]:
    row = session.get(model, entity_id)
    data: dict[str, Any] = {"id": entity_id}
    if row is None:
        return data
    data["name"] = row.name
    if with_domain:
        domain_id = getattr(row, "domain_id", None)
        if domain_id == models.NULL_DOMAIN_ID:
            return data
        domain = session.get(models.Domain, domain_id) if domain_id else None
        data["domain"] = {"id": domain_id, "name": domain.name if domain else None}
    return data


def render(session: Session, e: Entry, base: str, include_names: bool) -> dict[str, Any]:
    """Keystone's JSON shape of one assignment entry."""

    def ref(model: type, entity_id: str, with_domain: bool = True) -> dict[str, Any]:
        return _named(session, model, entity_id, with_domain) if include_names else {"id": entity_id}

    if e.target_kind == "system":
        scope: dict[str, Any] = {"system": {"all": True}}
    else:
        target_model = models.Project if e.target_kind == "project" else models.Domain
        scope = {e.target_kind: ref(target_model, e.target_id, e.target_kind == "project")}
    if e.inherited:
        scope["OS-INHERIT:inherited_to"] = "projects"
    links = {"assignment": f"{base}/v3/{e.assignment}"}
    if e.membership:
        links["membership"] = f"{base}/v3/{e.membership}"
    if e.prior_role:
        links["prior_role"] = f"{base}/v3/{e.prior_role}"
    actor_model = models.User if e.actor_kind == "user" else models.Group
    return {
        "role": ref(models.Role, e.role_id),
        e.actor_kind: ref(actor_model, e.actor_id),
        "scope": scope,
        "links": links,
    }
