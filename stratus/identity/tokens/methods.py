"""The auth methods of ``POST /v3/auth/tokens``: password, token, application_credential.

Each takes its part of ``auth.identity`` and returns who authenticated; any failure is a 401
with Keystone's deliberately vague message, so callers cannot probe which part was wrong.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import bcrypt
import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest, Unauthorized
from stratus.identity.models import ApplicationCredential, Domain, User

AUTH_FAILED = "The request you have made requires authentication."


@dataclass(frozen=True)
class Authenticated:
    user_id: str
    methods: tuple[str, ...]
    expires_at: dt.datetime | None = None  # inherited from a parent token
    parent_audit_ids: tuple[str, ...] = ()
    application_credential: ApplicationCredential | None = None
    parent_project_id: str | None = None
    parent_domain_id: str | None = None
    parent_system: bool = False


def obj(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid input for field '{where}': expected an object.")
    return value


def text(container: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = container.get(key)
    if value is None:
        if required:
            raise BadRequest(f"'{key}' is a required property in '{where}'.")
        return None
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input for field '{where}.{key}': expected a string.")
    return value


def find_domain(session: Session, ref: dict[str, Any], where: str) -> Domain:
    domain_id = text(ref, "id", where, required=False)
    name = text(ref, "name", where, required=False)
    if domain_id is None and name is None:
        raise BadRequest(f"'{where}' needs an 'id' or a 'name'.")
    stmt = sa.select(Domain).where(Domain.id == domain_id if domain_id else Domain.name == name)
    domain = session.scalars(stmt).first()
    if domain is None or not domain.enabled:
        raise Unauthorized(AUTH_FAILED)
    return domain


def find_user(session: Session, ref: dict[str, Any], where: str) -> User:
    user_id = text(ref, "id", where, required=False)
    if user_id is not None:
        user = session.get(User, user_id)
    else:
        name = text(ref, "name", where)
        domain = find_domain(session, obj(ref.get("domain"), f"{where}.domain"), f"{where}.domain")
        user = session.scalars(sa.select(User).where(User.name == name, User.domain_id == domain.id)).first()
    if user is None or not user.enabled:
        raise Unauthorized(AUTH_FAILED)
    domain = session.get(Domain, user.domain_id)
    if domain is None or not domain.enabled:
        raise Unauthorized(AUTH_FAILED)
    return user


def check_secret(secret: str, hashed: str | None) -> bool:
    if not hashed:
        return False
    try:
        return bcrypt.checkpw(secret.encode()[:72], hashed.encode())
    except ValueError:
        return False


def password(session: Session, part: dict[str, Any]) -> Authenticated:
    user_ref = obj(part.get("user"), "password.user")
    secret = text(user_ref, "password", "password.user")
    user = find_user(session, user_ref, "password.user")
    if not check_secret(secret or "", user.password_hash):
        raise Unauthorized(AUTH_FAILED)
    return Authenticated(user_id=user.id, methods=("password",))


def application_credential(session: Session, part: dict[str, Any]) -> Authenticated:
    secret = text(part, "secret", "application_credential")
    cred_id = text(part, "id", "application_credential", required=False)
    if cred_id is not None:
        cred = session.get(ApplicationCredential, cred_id)
    else:
        name = text(part, "name", "application_credential")
        user = find_user(session, obj(part.get("user"), "application_credential.user"), "application_credential.user")
        stmt = sa.select(ApplicationCredential).where(
            ApplicationCredential.name == name, ApplicationCredential.user_id == user.id
        )
        cred = session.scalars(stmt).first()
    if cred is None or not check_secret(secret or "", cred.secret_hash):
        raise Unauthorized(AUTH_FAILED)
    if cred.expires_at is not None and cred.expires_at <= utcnow():
        raise Unauthorized(AUTH_FAILED)
    user = session.get(User, cred.user_id)
    if user is None or not user.enabled:
        raise Unauthorized(AUTH_FAILED)
    return Authenticated(user_id=user.id, methods=("application_credential",), application_credential=cred)
