"""Credentials (``/v3/credentials``) and the EC2 credentials built on them (``OS-EC2``).

As in Keystone, an ``ec2`` credential's blob is JSON with an ``access`` key, its id is the SHA-256 of
that access key (so the key can be looked up directly), and it must name a project.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import sqlalchemy as sa
from pydantic import Field
from sqlalchemy.orm import Session

from stratus.core.exceptions import BadRequest, Conflict, NotFound
from stratus.identity import models
from stratus.identity.resources.common import (
    Body,
    get_or_404,
    merge_extra,
    pop_matching_id,
    reject_reserved,
    require_ref,
)

RESERVED = ("id", "links")
EC2 = "ec2"


class CredentialCreate(Body):
    user_id: str = Field(min_length=1, max_length=64)
    type: str = Field(min_length=1, max_length=255)
    blob: str = Field(min_length=1)
    project_id: str | None = Field(default=None, max_length=64)


class CredentialUpdate(Body):
    user_id: str = Field(default="", min_length=1, max_length=64)
    type: str = Field(default="", min_length=1, max_length=255)
    blob: str = Field(default="", min_length=1)
    project_id: str | None = Field(default=None, max_length=64)


def to_dict(cred: models.Credential) -> dict[str, Any]:
    return {
        **(cred.extra or {}),
        "id": cred.id,
        "user_id": cred.user_id,
        "project_id": cred.project_id,
        "type": cred.type,
        "blob": cred.blob,
    }


def ec2_id(access: str) -> str:
    return hashlib.sha256(access.encode()).hexdigest()


def _ec2_access(blob: str, project_id: str | None) -> str:
    """The access key of an ec2 blob; 400 unless the blob is JSON with one and a project is named."""
    try:
        data = json.loads(blob)
    except ValueError:
        raise BadRequest("Invalid blob in credential: an ec2 credential's blob must be JSON.") from None
    if not isinstance(data, dict) or not isinstance(data.get("access"), str) or not data["access"]:
        raise BadRequest("Invalid blob in credential: an ec2 credential's blob needs an 'access' key.")
    if not project_id:
        raise BadRequest("Invalid input for field 'project_id': an ec2 credential needs a project.")
    return str(data["access"])


def _check_refs(session: Session, user_id: str, project_id: str | None) -> None:
    require_ref(session, models.User, user_id, "user_id")
    if project_id is not None:
        require_ref(session, models.Project, project_id, "project_id")


def create(session: Session, body: CredentialCreate) -> models.Credential:
    extras = body.extras()
    reject_reserved(extras, RESERVED)
    _check_refs(session, body.user_id, body.project_id)
    cred_id = ec2_id(_ec2_access(body.blob, body.project_id)) if body.type == EC2 else uuid.uuid4().hex
    if session.get(models.Credential, cred_id) is not None:
        raise Conflict(f"Conflict occurred attempting to store credential - Duplicate ID, {cred_id}.")
    cred = models.Credential(
        id=cred_id, user_id=body.user_id, project_id=body.project_id, type=body.type, blob=body.blob, extra=extras
    )
    session.add(cred)
    session.flush()
    return cred


def update(session: Session, cred: models.Credential, body: CredentialUpdate) -> None:
    given, extras = body.given(), body.extras()
    pop_matching_id(extras, cred.id)
    reject_reserved(extras, RESERVED)
    merged = {"user_id": cred.user_id, "project_id": cred.project_id, "type": cred.type, "blob": cred.blob, **given}
    _check_refs(session, merged["user_id"], merged["project_id"])
    if merged["type"] == EC2:  # the id stays the hash of the first access key, as in Keystone
        _ec2_access(merged["blob"], merged["project_id"])
    for key, value in given.items():
        setattr(cred, key, value)
    if extras:
        cred.extra = merge_extra(cred.extra, extras)
    session.flush()


def get(session: Session, cred_id: str) -> models.Credential:
    cred = session.get(models.Credential, cred_id)
    if cred is None:
        raise NotFound(f"Could not find credential: {cred_id}.")
    return cred


def list_(session: Session, *, user_id: str | None = None, type: str | None = None) -> list[models.Credential]:
    stmt = sa.select(models.Credential).order_by(models.Credential.id)
    if user_id is not None:
        stmt = stmt.where(models.Credential.user_id == user_id)
    if type is not None:
        stmt = stmt.where(models.Credential.type == type)
    return list(session.scalars(stmt))


# -- OS-EC2 -----------------------------------------------------------------------------------


def ec2_dict(cred: models.Credential) -> dict[str, Any]:
    blob = json.loads(cred.blob)
    return {
        "user_id": cred.user_id,
        "tenant_id": cred.project_id,
        "access": blob.get("access"),
        "secret": blob.get("secret"),
        "trust_id": blob.get("trust_id"),
    }


def create_ec2(session: Session, user_id: str, project_id: str) -> models.Credential:
    """New EC2 keys for the user on the project (Keystone: ``POST /v3/users/{id}/credentials/OS-EC2``)."""
    get_or_404(session, models.Project, project_id)  # as Keystone: an unknown project is not found
    access, secret = uuid.uuid4().hex, uuid.uuid4().hex
    blob = json.dumps({"access": access, "secret": secret, "trust_id": None})
    cred = models.Credential(id=ec2_id(access), user_id=user_id, project_id=project_id, type=EC2, blob=blob)
    session.add(cred)
    session.flush()
    return cred


def get_ec2(session: Session, user_id: str, access: str) -> models.Credential:
    cred = session.get(models.Credential, ec2_id(access))
    if cred is None or cred.user_id != user_id or cred.type != EC2:
        raise NotFound(f"Could not find credential: {access}.")
    return cred


def list_ec2(session: Session, user_id: str) -> list[models.Credential]:
    return list_(session, user_id=user_id, type=EC2)
