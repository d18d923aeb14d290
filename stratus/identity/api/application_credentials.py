"""``/v3/users/{user_id}/application_credentials``: credentials a user makes for its apps."""

from __future__ import annotations

import base64
import datetime as dt
import secrets
from typing import Any

import bcrypt
import sqlalchemy as sa
from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest, Conflict, Forbidden, NotFound
from stratus.identity import revocation
from stratus.identity.api.common import collection, entity_links
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.models import ApplicationCredential, Role, User

router = APIRouter()
BASE = "/v3/users/{user_id}/application_credentials"


class RoleRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = None
    name: str | None = None


class AppCredCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=255)
    secret: str | None = Field(None, min_length=1)
    description: str | None = None
    expires_at: dt.datetime | None = None
    roles: list[RoleRef] | None = None
    unrestricted: bool = False
    access_rules: list[dict[str, Any]] | None = None


class AppCredBody(BaseModel):
    application_credential: AppCredCreate


def _render(request: Request, cred: ApplicationCredential, roles: list[Role]) -> dict[str, Any]:
    return {
        "id": cred.id,
        "name": cred.name,
        "description": cred.description,
        "user_id": cred.user_id,
        "project_id": cred.project_id,
        "expires_at": cred.expires_at.strftime("%Y-%m-%dT%H:%M:%S.%f") if cred.expires_at else None,
        "unrestricted": cred.unrestricted,
        "roles": [{"id": r.id, "name": r.name, "domain_id": None} for r in roles],
        "access_rules": [],
        "links": entity_links(request, f"users/{cred.user_id}/application_credentials/{cred.id}"),
    }


def _roles_of(session: Any, cred: ApplicationCredential) -> list[Role]:
    if not cred.role_ids:
        return []
    return list(session.scalars(sa.select(Role).where(Role.id.in_(cred.role_ids)).order_by(Role.name)))


def _pick_roles(session: Any, ctx: RequestContext, refs: list[RoleRef] | None) -> list[Role]:
    """The requested roles, each of which the caller's token must hold; default: all of them."""
    held = list(session.scalars(sa.select(Role).where(Role.name.in_(ctx.roles))))
    if not refs:  # an empty list means "every role of the token", as Keystone reads it
        return held
    chosen = []
    for ref in refs:
        match = next((r for r in held if (ref.id and r.id == ref.id) or (ref.name and r.name == ref.name)), None)
        if match is None:
            raise Forbidden(
                f"Cannot create an application credential with a role you do not hold: {ref.id or ref.name}"
            )
        chosen.append(match)
    return chosen


@router.post(BASE, status_code=201)
def create(request: Request, user_id: str, body: AppCredBody, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:create_application_credential", {"user_id": user_id})
    if ctx.user_id != user_id:
        raise Forbidden("Application credentials can only be created by their own user.")
    if ctx.project_id is None:
        raise Forbidden("A project-scoped token is needed to create an application credential.")
    if ctx.application_credential_id:
        raise Forbidden("An application credential token cannot create another application credential.")
    req = body.application_credential
    expires = (
        req.expires_at.astimezone(dt.UTC).replace(tzinfo=None)
        if req.expires_at and req.expires_at.tzinfo
        else req.expires_at
    )
    if expires is not None and expires <= utcnow():
        raise BadRequest("expires_at must be in the future.")
    secret = req.secret or base64.urlsafe_b64encode(secrets.token_bytes(48)).decode().rstrip("=")
    rounds = get_service(request).conf.password_hash_rounds
    try:
        with get_service(request).db.session() as session:
            roles = _pick_roles(session, ctx, req.roles)
            cred = ApplicationCredential(
                name=req.name,
                user_id=user_id,
                project_id=ctx.project_id,
                secret_hash=bcrypt.hashpw(secret.encode()[:72], bcrypt.gensalt(rounds)).decode(),
                description=req.description,
                expires_at=expires,
                unrestricted=req.unrestricted,
                role_ids=[r.id for r in roles],
            )
            session.add(cred)
            session.flush()
            doc = _render(request, cred, roles)
    except IntegrityError:
        raise Conflict(f"An application credential named {req.name!r} already exists for this user.") from None
    doc["secret"] = secret
    return {"application_credential": doc}


@router.get(BASE)
def list_(request: Request, user_id: str, name: str | None = None, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:list_application_credentials", {"user_id": user_id})
    with get_service(request).db.reader() as session:
        if session.get(User, user_id) is None:
            raise NotFound(f"Could not find user: {user_id}.")
        stmt = sa.select(ApplicationCredential).where(ApplicationCredential.user_id == user_id)
        if name is not None:
            stmt = stmt.where(ApplicationCredential.name == name)
        creds = session.scalars(stmt.order_by(ApplicationCredential.name)).all()
        items = [_render(request, c, _roles_of(session, c)) for c in creds]
    return collection(request, "application_credentials", items)


def _get(session: Any, user_id: str, cred_id: str) -> ApplicationCredential:
    cred = session.get(ApplicationCredential, cred_id)
    if cred is None or cred.user_id != user_id:
        raise NotFound(f"Could not find Application Credential: {cred_id}.")
    return cred


@router.get(BASE + "/{cred_id}")
def show(request: Request, user_id: str, cred_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:get_application_credential", {"user_id": user_id})
    with get_service(request).db.reader() as session:
        cred = _get(session, user_id, cred_id)
        return {"application_credential": _render(request, cred, _roles_of(session, cred))}


@router.delete(BASE + "/{cred_id}", status_code=204)
def delete(request: Request, user_id: str, cred_id: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:delete_application_credential", {"user_id": user_id})
    if ctx.application_credential_id and not ctx.application_credential_id == cred_id:
        raise Forbidden("An application credential token cannot delete another application credential.")
    service = get_service(request)
    with service.db.session() as session:
        cred = _get(session, user_id, cred_id)
        session.delete(cred)
        revocation.revoke(session, application_credential_id=cred_id)
    service.announce_revocation()
    return Response(status_code=204)
