"""``/v3/users``: CRUD, and ``POST /v3/users/{user_id}/password`` for a user's own password."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict

from stratus.core.context import RequestContext
from stratus.identity import models
from stratus.identity.api.common import collection, entity_links, query_bool
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.resources import users
from stratus.identity.resources.common import DEFAULT_DOMAIN_ID, get_or_404
from stratus.identity.resources.text import reject_nul_in_url

router = APIRouter(dependencies=[Depends(reject_nul_in_url)])


class CreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    user: users.UserCreate


class UpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    user: users.UserUpdate


class PasswordBody(BaseModel):
    model_config = ConfigDict(strict=True)
    user: users.PasswordChange


def render(request: Request, user: models.User) -> dict[str, Any]:
    return {**users.to_dict(user), "links": entity_links(request, f"users/{user.id}")}


def _target(user: models.User | None, user_id: str) -> dict[str, Any]:
    return {"id": user_id, "user_id": user_id, "domain_id": user.domain_id if user else None}


@router.get("/v3/users")
def list_users(
    request: Request,
    ctx: RequestContext = Context,
    domain_id: str | None = None,
    name: str | None = None,
    enabled: str | None = None,
) -> dict[str, Any]:
    if domain_id is None and not ctx.is_admin and ctx.domain_id:
        domain_id = ctx.domain_id
    enforce(request, ctx, "identity:list_users", {"domain_id": domain_id})
    stmt = sa.select(models.User).order_by(models.User.name)
    if domain_id is not None:
        stmt = stmt.where(models.User.domain_id == domain_id)
    if name is not None:
        stmt = stmt.where(models.User.name == name)
    if (want := query_bool(enabled, "enabled")) is not None:
        stmt = stmt.where(models.User.enabled.is_(want))
    with get_service(request).db.reader() as session:
        return collection(request, "users", [render(request, u) for u in session.scalars(stmt)])


@router.post("/v3/users", status_code=201)
def create_user(request: Request, body: CreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    default_domain = ctx.domain_id or ctx.project_domain_id or DEFAULT_DOMAIN_ID
    enforce(request, ctx, "identity:create_user", {"domain_id": body.user.domain_id or default_domain})
    service = get_service(request)
    with service.db.session() as session:
        user = users.create(session, body.user, default_domain, service.conf.password_hash_rounds)
        return {"user": render(request, user)}


@router.get("/v3/users/{user_id}")
def get_user(request: Request, user_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    with get_service(request).db.reader() as session:
        user = session.get(models.User, user_id)
        enforce(request, ctx, "identity:get_user", _target(user, user_id))
        return {"user": render(request, get_or_404(session, models.User, user_id))}


@router.patch("/v3/users/{user_id}")
def update_user(request: Request, user_id: str, body: UpdateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    service = get_service(request)
    with service.db.session() as session:
        user = session.get(models.User, user_id)
        enforce(request, ctx, "identity:update_user", _target(user, user_id))
        user = get_or_404(session, models.User, user_id)
        revoked = users.update(session, user, body.user, service.conf.password_hash_rounds)
        result = {"user": render(request, user)}
    if revoked:
        service.announce_revocation()
    return result


@router.delete("/v3/users/{user_id}", status_code=204)
def delete_user(request: Request, user_id: str, ctx: RequestContext = Context) -> Response:
    service = get_service(request)
    with service.db.session() as session:
        user = session.get(models.User, user_id)
        enforce(request, ctx, "identity:delete_user", _target(user, user_id))
        users.delete(session, get_or_404(session, models.User, user_id))
    service.announce_revocation()
    return Response(status_code=204)


@router.post("/v3/users/{user_id}/password", status_code=204)
def change_password(request: Request, user_id: str, body: PasswordBody, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:change_password", {"user_id": user_id})
    service = get_service(request)
    with service.db.session() as session:
        user = get_or_404(session, models.User, user_id)
        users.change_own_password(session, user, body.user, service.conf.password_hash_rounds)
    service.announce_revocation()
    return Response(status_code=204)
