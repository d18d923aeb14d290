"""Role grants on projects, domains (incl. OS-INHERIT) and the system, and ``GET /v3/role_assignments``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.orm import Session

from stratus.core.context import RequestContext
from stratus.identity import models
from stratus.identity.api.common import base_url, collection, query_bool
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.api.roles import render as render_role
from stratus.identity.resources import grants, role_assignments
from stratus.identity.resources.grants import GrantRef
from stratus.identity.resources.text import reject_nul_in_url

router = APIRouter(dependencies=[Depends(reject_nul_in_url)])


def _target(session: Session, ref: GrantRef) -> dict[str, Any]:
    """Policy target: the grant's actor, its project (if any) and the domain it is in."""
    target: dict[str, Any] = {f"{ref.actor_kind}_id": ref.actor_id, "role_id": ref.role_id}
    if ref.target_kind == "project":
        project = session.get(models.Project, ref.target_id)
        target.update(project_id=ref.target_id, domain_id=project.domain_id if project else None)
    else:
        target["domain_id"] = ref.target_id
    return target


def _grant_routes(target_kind: str, actor_kind: str, inherited: bool) -> None:
    """Register PUT/HEAD/GET/DELETE of one grant and the list of them, for one URL family."""
    prefix = f"/v3/{target_kind}s/{{target_id}}/{actor_kind}s/{{actor_id}}/roles"
    suffix = ""
    if inherited:
        prefix, suffix = f"/v3/OS-INHERIT{prefix[3:]}", "/inherited_to_projects"

    def ref(target_id: str, actor_id: str, role_id: str = "") -> GrantRef:
        return GrantRef(actor_kind, actor_id, target_kind, target_id, role_id, inherited)

    def put(request: Request, target_id: str, actor_id: str, role_id: str, ctx: RequestContext = Context) -> Response:
        with get_service(request).db.session() as session:
            grant = ref(target_id, actor_id, role_id)
            enforce(request, ctx, "identity:create_grant", _target(session, grant))
            grants.create(session, grant)
        return Response(status_code=204)

    def check(request: Request, target_id: str, actor_id: str, role_id: str, ctx: RequestContext = Context) -> Response:
        with get_service(request).db.reader() as session:
            grant = ref(target_id, actor_id, role_id)
            enforce(request, ctx, "identity:check_grant", _target(session, grant))
            grants.check(session, grant)
        return Response(status_code=204)

    def delete(
        request: Request, target_id: str, actor_id: str, role_id: str, ctx: RequestContext = Context
    ) -> Response:
        service = get_service(request)
        with service.db.session() as session:
            grant = ref(target_id, actor_id, role_id)
            enforce(request, ctx, "identity:revoke_grant", _target(session, grant))
            grants.delete(session, grant)
        service.announce_revocation()
        return Response(status_code=204)

    def list_(request: Request, target_id: str, actor_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
        with get_service(request).db.reader() as session:
            enforce(request, ctx, "identity:list_grants", _target(session, ref(target_id, actor_id)))
            role_ids = grants.list_role_ids(session, actor_kind, actor_id, target_kind, target_id, inherited)
            rows = session.scalars(
                sa.select(models.Role).where(models.Role.id.in_(role_ids)).order_by(models.Role.name)
            )
            return collection(request, "roles", [render_role(request, r) for r in rows])

    one = f"{prefix}/{{role_id}}{suffix}"
    name = f"{'inherited_' if inherited else ''}{target_kind}_{actor_kind}"
    handlers: list[tuple[str, str, Callable[..., Any], int | None]] = [
        (one, "PUT", put, 204),
        (one, "HEAD", check, 204),
        (one, "GET", check, 204),
        (one, "DELETE", delete, 204),
        (f"{prefix}{suffix}", "GET", list_, None),
    ]
    for path, method, handler, status in handlers:
        router.add_api_route(path, handler, methods=[method], status_code=status, name=f"{method.lower()}_{name}_grant")


for _target_kind in ("project", "domain"):
    for _actor_kind in ("user", "group"):
        _grant_routes(_target_kind, _actor_kind, inherited=False)
        _grant_routes(_target_kind, _actor_kind, inherited=True)


def _system_grant_routes(actor_kind: str) -> None:
    """``/v3/system/{users,groups}/{actor_id}/roles[/{role_id}]``: grants on the system (Keystone's "all")."""
    prefix = f"/v3/system/{actor_kind}s/{{actor_id}}/roles"
    suffix = f"system_grant_for_{actor_kind}"

    def put(request: Request, actor_id: str, role_id: str, ctx: RequestContext = Context) -> Response:
        enforce(request, ctx, f"identity:create_{suffix}", {f"{actor_kind}_id": actor_id, "role_id": role_id})
        with get_service(request).db.session() as session:
            grants.create(session, grants.system_grant(actor_kind, actor_id, role_id))
        return Response(status_code=204)

    def check(request: Request, actor_id: str, role_id: str, ctx: RequestContext = Context) -> Response:
        enforce(request, ctx, f"identity:check_{suffix}", {f"{actor_kind}_id": actor_id, "role_id": role_id})
        with get_service(request).db.reader() as session:
            grants.check(session, grants.system_grant(actor_kind, actor_id, role_id))
        return Response(status_code=204)

    def delete(request: Request, actor_id: str, role_id: str, ctx: RequestContext = Context) -> Response:
        enforce(request, ctx, f"identity:revoke_{suffix}", {f"{actor_kind}_id": actor_id, "role_id": role_id})
        service = get_service(request)
        with service.db.session() as session:
            grants.delete(session, grants.system_grant(actor_kind, actor_id, role_id))
        service.announce_revocation()
        return Response(status_code=204)

    def list_(request: Request, actor_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
        enforce(request, ctx, f"identity:list_system_grants_for_{actor_kind}", {f"{actor_kind}_id": actor_id})
        with get_service(request).db.reader() as session:
            probe = grants.system_grant(actor_kind, actor_id)
            role_ids = grants.list_role_ids(session, actor_kind, actor_id, "system", probe.target_id, False)
            rows = session.scalars(
                sa.select(models.Role).where(models.Role.id.in_(role_ids)).order_by(models.Role.name)
            )
            return collection(request, "roles", [render_role(request, r) for r in rows])

    one = f"{prefix}/{{role_id}}"
    handlers: list[tuple[str, str, Callable[..., Any], int | None]] = [
        (one, "PUT", put, 204),
        (one, "HEAD", check, 204),
        (one, "GET", check, 204),
        (one, "DELETE", delete, 204),
        (prefix, "GET", list_, None),
    ]
    for path, method, handler, status in handlers:
        name = f"{method.lower()}_system_{actor_kind}_grant"
        router.add_api_route(path, handler, methods=[method], status_code=status, name=name)


_system_grant_routes("user")
_system_grant_routes("group")


@router.get("/v3/role_assignments")
def list_role_assignments(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    q = request.query_params
    inherited_to = q.get("scope.OS-INHERIT:inherited_to")
    filters = role_assignments.Filters(
        user_id=q.get("user.id"),
        group_id=q.get("group.id"),
        project_id=q.get("scope.project.id"),
        domain_id=q.get("scope.domain.id"),
        system="scope.system" in q,
        role_id=q.get("role.id"),
        inherited=True if inherited_to is not None else None,
        effective=_flag(q, "effective"),
        include_names=_flag(q, "include_names"),
        include_subtree=_flag(q, "include_subtree"),
    )
    with get_service(request).db.reader() as session:
        domain_id = filters.domain_id
        if filters.project_id:
            project = session.get(models.Project, filters.project_id)
            domain_id = project.domain_id if project else None
        target = {"domain_id": domain_id, "project_id": filters.project_id, "user_id": filters.user_id}
        enforce(request, ctx, "identity:list_role_assignments", target)
        entries = role_assignments.collect(session, filters)
        base = base_url(request)
        items = [role_assignments.render(session, e, base, filters.include_names) for e in entries]
    return collection(request, "role_assignments", items)


def _flag(params: Any, name: str) -> bool:
    """Keystone treats a bare ``?effective`` as true."""
    if name not in params:
        return False
    return bool(query_bool(params.get(name), name))
