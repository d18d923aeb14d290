"""``/v3/groups``: CRUD and memberships (``/v3/groups/{g}/users/{u}``, ``/v3/users/{u}/groups``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound
from stratus.identity import models
from stratus.identity.api.common import collection, entity_links
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.api.users import render as render_user
from stratus.identity.resources import groups
from stratus.identity.resources.common import DEFAULT_DOMAIN_ID, get_or_404
from stratus.identity.resources.text import reject_nul_in_url

router = APIRouter(dependencies=[Depends(reject_nul_in_url)])


class CreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    group: groups.GroupCreate


class UpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    group: groups.GroupUpdate


def render(request: Request, group: models.Group) -> dict[str, Any]:
    return {**groups.to_dict(group), "links": entity_links(request, f"groups/{group.id}")}


def _target(group: models.Group | None, group_id: str, user_id: str | None = None) -> dict[str, Any]:
    return {"id": group_id, "group_id": group_id, "user_id": user_id, "domain_id": group.domain_id if group else None}


@router.get("/v3/groups")
def list_groups(
    request: Request, ctx: RequestContext = Context, domain_id: str | None = None, name: str | None = None
) -> dict[str, Any]:
    if domain_id is None and not ctx.is_admin and ctx.domain_id:
        domain_id = ctx.domain_id
    enforce(request, ctx, "identity:list_groups", {"domain_id": domain_id})
    stmt = sa.select(models.Group).order_by(models.Group.name)
    if domain_id is not None:
        stmt = stmt.where(models.Group.domain_id == domain_id)
    if name is not None:
        stmt = stmt.where(models.Group.name == name)
    with get_service(request).db.reader() as session:
        return collection(request, "groups", [render(request, g) for g in session.scalars(stmt)])


@router.post("/v3/groups", status_code=201)
def create_group(request: Request, body: CreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    default_domain = ctx.domain_id or ctx.project_domain_id or DEFAULT_DOMAIN_ID
    enforce(request, ctx, "identity:create_group", {"domain_id": body.group.domain_id or default_domain})
    with get_service(request).db.session() as session:
        return {"group": render(request, groups.create(session, body.group, default_domain))}


@router.get("/v3/groups/{group_id}")
def get_group(request: Request, group_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    with get_service(request).db.reader() as session:
        enforce(request, ctx, "identity:get_group", _target(session.get(models.Group, group_id), group_id))
        return {"group": render(request, get_or_404(session, models.Group, group_id))}


@router.patch("/v3/groups/{group_id}")
def update_group(request: Request, group_id: str, body: UpdateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    with get_service(request).db.session() as session:
        enforce(request, ctx, "identity:update_group", _target(session.get(models.Group, group_id), group_id))
        group = get_or_404(session, models.Group, group_id)
        groups.update(session, group, body.group)
        return {"group": render(request, group)}


@router.delete("/v3/groups/{group_id}", status_code=204)
def delete_group(request: Request, group_id: str, ctx: RequestContext = Context) -> Response:
    service = get_service(request)
    with service.db.session() as session:
        enforce(request, ctx, "identity:delete_group", _target(session.get(models.Group, group_id), group_id))
        groups.delete(session, get_or_404(session, models.Group, group_id))
    service.announce_revocation()
    return Response(status_code=204)


@router.get("/v3/groups/{group_id}/users")
def list_users_in_group(request: Request, group_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    with get_service(request).db.reader() as session:
        enforce(request, ctx, "identity:list_users_in_group", _target(session.get(models.Group, group_id), group_id))
        get_or_404(session, models.Group, group_id)
        stmt = (
            sa.select(models.User)
            .join(models.UserGroupMembership, models.UserGroupMembership.user_id == models.User.id)
            .where(models.UserGroupMembership.group_id == group_id)
            .order_by(models.User.name)
        )
        return collection(request, "users", [render_user(request, u) for u in session.scalars(stmt)])


@router.get("/v3/users/{user_id}/groups")
def list_groups_for_user(request: Request, user_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_groups_for_user", {"user_id": user_id})
    with get_service(request).db.reader() as session:
        get_or_404(session, models.User, user_id)
        stmt = (
            sa.select(models.Group)
            .join(models.UserGroupMembership, models.UserGroupMembership.group_id == models.Group.id)
            .where(models.UserGroupMembership.user_id == user_id)
            .order_by(models.Group.name)
        )
        return collection(request, "groups", [render(request, g) for g in session.scalars(stmt)])


def _membership(session: Any, group_id: str, user_id: str) -> None:
    get_or_404(session, models.Group, group_id)
    get_or_404(session, models.User, user_id)


@router.put("/v3/groups/{group_id}/users/{user_id}", status_code=204)
def add_user_to_group(request: Request, group_id: str, user_id: str, ctx: RequestContext = Context) -> Response:
    with get_service(request).db.session() as session:
        group = session.get(models.Group, group_id)
        enforce(request, ctx, "identity:add_user_to_group", _target(group, group_id, user_id))
        _membership(session, group_id, user_id)
        groups.add_member(session, group_id, user_id)
    return Response(status_code=204)


@router.head("/v3/groups/{group_id}/users/{user_id}", status_code=204)
@router.get("/v3/groups/{group_id}/users/{user_id}", status_code=204, include_in_schema=False)
def check_user_in_group(request: Request, group_id: str, user_id: str, ctx: RequestContext = Context) -> Response:
    with get_service(request).db.reader() as session:
        group = session.get(models.Group, group_id)
        enforce(request, ctx, "identity:check_user_in_group", _target(group, group_id, user_id))
        _membership(session, group_id, user_id)
        if not groups.is_member(session, group_id, user_id):
            raise NotFound(f"Could not find user: {user_id} in group {group_id}.")
    return Response(status_code=204)


@router.delete("/v3/groups/{group_id}/users/{user_id}", status_code=204)
def remove_user_from_group(request: Request, group_id: str, user_id: str, ctx: RequestContext = Context) -> Response:
    service = get_service(request)
    with service.db.session() as session:
        group = session.get(models.Group, group_id)
        enforce(request, ctx, "identity:remove_user_from_group", _target(group, group_id, user_id))
        _membership(session, group_id, user_id)
        groups.remove_member(session, group_id, user_id)
    service.announce_revocation()
    return Response(status_code=204)
