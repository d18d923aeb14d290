"""Turning a validated token into Keystone's token document (user, scope, roles, catalog)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.identity.models import ApplicationCredential, Domain, Endpoint, Project, Role, Service, User
from stratus.identity.tokens.payload import TokenData


def isotime(value: dt.datetime) -> str:
    """Keystone's token timestamp format: ``2026-11-28T18:00:00.000000Z``."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def domain_ref(session: Session, domain_id: str) -> dict[str, str]:
    domain = session.get(Domain, domain_id)
    return {"id": domain_id, "name": domain.name if domain else ""}


def catalog(session: Session) -> list[dict[str, Any]]:
    """The service catalog: enabled services with their enabled endpoints."""
    services = session.scalars(sa.select(Service).where(Service.enabled.is_(True)).order_by(Service.type)).all()
    endpoints = session.scalars(sa.select(Endpoint).where(Endpoint.enabled.is_(True))).all()
    by_service: dict[str, list[Endpoint]] = {}
    for ep in endpoints:
        by_service.setdefault(ep.service_id, []).append(ep)
    result = []
    for svc in services:
        eps = [
            {"id": ep.id, "interface": ep.interface, "region": ep.region_id, "region_id": ep.region_id, "url": ep.url}
            for ep in by_service.get(svc.id, [])
        ]
        result.append({"endpoints": eps, "id": svc.id, "type": svc.type, "name": svc.name or ""})
    return result


def token_document(
    session: Session, data: TokenData, role_ids: set[str], *, include_catalog: bool = True
) -> dict[str, Any]:
    user = session.get(User, data.user_id)
    assert user is not None  # validated by the caller
    body: dict[str, Any] = {
        "methods": list(data.methods),
        "user": {
            "id": user.id,
            "name": user.name,
            "domain": domain_ref(session, user.domain_id),
            "password_expires_at": None,
        },
        "audit_ids": list(data.audit_ids),
        "expires_at": isotime(data.expires_at),
        "issued_at": isotime(data.issued_at),
    }
    if data.project_id:
        project = session.get(Project, data.project_id)
        assert project is not None
        body["project"] = {"id": project.id, "name": project.name, "domain": domain_ref(session, project.domain_id)}
        body["is_domain"] = False
    elif data.domain_id:
        body["domain"] = domain_ref(session, data.domain_id)
    elif data.system:
        body["system"] = {"all": True}
    if data.scoped:
        roles = (
            session.scalars(sa.select(Role).where(Role.id.in_(role_ids)).order_by(Role.name)).all() if role_ids else []
        )
        body["roles"] = [{"id": r.id, "name": r.name} for r in roles]
        if include_catalog:
            body["catalog"] = catalog(session)
    if data.application_credential_id:
        cred = session.get(ApplicationCredential, data.application_credential_id)
        if cred is not None:
            body["application_credential"] = {"id": cred.id, "name": cred.name, "restricted": not cred.unrestricted}
    return {"token": body}
