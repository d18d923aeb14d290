"""``/v3/credentials`` and the EC2 credentials of a user (``/v3/users/{user_id}/credentials/OS-EC2``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound
from stratus.identity import models
from stratus.identity.api.common import collection, entity_links
from stratus.identity.api.deps import Context, enforce, get_service
from stratus.identity.resources import credentials
from stratus.identity.resources.common import get_or_404
from stratus.identity.resources.text import reject_nul_in_url

router = APIRouter(dependencies=[Depends(reject_nul_in_url)])
EC2_BASE = "/v3/users/{user_id}/credentials/OS-EC2"


class CreateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    credential: credentials.CredentialCreate


class UpdateBody(BaseModel):
    model_config = ConfigDict(strict=True)
    credential: credentials.CredentialUpdate


class Ec2CreateBody(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow")
    tenant_id: str = Field(min_length=1, max_length=64)


def render(request: Request, cred: models.Credential) -> dict[str, Any]:
    return {**credentials.to_dict(cred), "links": entity_links(request, f"credentials/{cred.id}")}


def _target(cred: models.Credential) -> dict[str, Any]:
    return {"user_id": cred.user_id, "project_id": cred.project_id}


@router.get("/v3/credentials")
def list_credentials(
    request: Request, ctx: RequestContext = Context, user_id: str | None = None, type: str | None = None
) -> dict[str, Any]:
    service = get_service(request)
    with service.db.reader() as session:
        rows = credentials.list_(session, user_id=user_id, type=type)
        # As Keystone: everyone may list, and sees only the credentials the get policy lets them see.
        visible = [c for c in rows if service.enforcer.authorize(ctx, "identity:get_credential", _target(c))]
        enforce(request, ctx, "identity:list_credentials", {"user_id": user_id or ctx.user_id})
        return collection(request, "credentials", [render(request, c) for c in visible])


@router.post("/v3/credentials", status_code=201)
def create_credential(request: Request, body: CreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    req = body.credential
    enforce(request, ctx, "identity:create_credential", {"user_id": req.user_id, "project_id": req.project_id})
    with get_service(request).db.session() as session:
        return {"credential": render(request, credentials.create(session, req))}


@router.get("/v3/credentials/{credential_id}")
def get_credential(request: Request, credential_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    with get_service(request).db.reader() as session:
        cred = session.get(models.Credential, credential_id)
        enforce(request, ctx, "identity:get_credential", _target(cred) if cred else {})
        return {"credential": render(request, credentials.get(session, credential_id))}


@router.patch("/v3/credentials/{credential_id}")
def update_credential(
    request: Request, credential_id: str, body: UpdateBody, ctx: RequestContext = Context
) -> dict[str, Any]:
    with get_service(request).db.session() as session:
        cred = session.get(models.Credential, credential_id)
        enforce(request, ctx, "identity:update_credential", _target(cred) if cred else {})
        cred = credentials.get(session, credential_id)
        new_owner = body.credential.given().get("user_id")
        if new_owner is not None:  # moving a credential needs the right to create it for its new owner
            enforce(request, ctx, "identity:create_credential", {"user_id": new_owner})
        credentials.update(session, cred, body.credential)
        return {"credential": render(request, cred)}


@router.delete("/v3/credentials/{credential_id}", status_code=204)
def delete_credential(request: Request, credential_id: str, ctx: RequestContext = Context) -> Response:
    with get_service(request).db.session() as session:
        cred = session.get(models.Credential, credential_id)
        enforce(request, ctx, "identity:delete_credential", _target(cred) if cred else {})
        session.delete(credentials.get(session, credential_id))
    return Response(status_code=204)


# -- OS-EC2 -----------------------------------------------------------------------------------


def _ec2(request: Request, cred: models.Credential) -> dict[str, Any]:
    data = credentials.ec2_dict(cred)
    return {**data, "links": entity_links(request, f"users/{cred.user_id}/credentials/OS-EC2/{data['access']}")}


@router.post(EC2_BASE, status_code=201)
def create_ec2(request: Request, user_id: str, body: Ec2CreateBody, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:ec2_create_credential", {"user_id": user_id})
    with get_service(request).db.session() as session:
        get_or_404(session, models.User, user_id)
        return {"credential": _ec2(request, credentials.create_ec2(session, user_id, body.tenant_id))}


@router.get(EC2_BASE)
def list_ec2(request: Request, user_id: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:ec2_list_credentials", {"user_id": user_id})
    with get_service(request).db.reader() as session:
        get_or_404(session, models.User, user_id)
        return collection(request, "credentials", [_ec2(request, c) for c in credentials.list_ec2(session, user_id)])


@router.get(EC2_BASE + "/{access}")
def get_ec2(request: Request, user_id: str, access: str, ctx: RequestContext = Context) -> dict[str, Any]:
    enforce(request, ctx, "identity:ec2_get_credential", {"user_id": user_id})
    with get_service(request).db.reader() as session:
        return {"credential": _ec2(request, credentials.get_ec2(session, user_id, access))}


@router.delete(EC2_BASE + "/{access}", status_code=204)
def delete_ec2(request: Request, user_id: str, access: str, ctx: RequestContext = Context) -> Response:
    enforce(request, ctx, "identity:ec2_delete_credential", {"user_id": user_id})
    with get_service(request).db.session() as session:
        try:
            session.delete(credentials.get_ec2(session, user_id, access))
        except NotFound:
            raise NotFound(f"Could not find credential: {access}.") from None
    return Response(status_code=204)
