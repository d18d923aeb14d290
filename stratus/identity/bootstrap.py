"""Idempotent first-run setup, as ``keystone-manage bootstrap``: default domain, roles, admin, demo, catalog.

Safe to run at every start: it creates what is missing and changes nothing that exists, except
catalog endpoint URLs, which follow the ``endpoints`` given (so a changed host name is picked up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.db import utcnow
from stratus.identity import models
from stratus.identity.assignments import SYSTEM_TARGET, USER_DOMAIN, USER_PROJECT, USER_SYSTEM
from stratus.identity.resources.common import DEFAULT_DOMAIN_ID
from stratus.identity.resources.passwords import hash_password

if TYPE_CHECKING:
    from stratus.identity.service import IdentityService

INTERFACES = ("public", "internal", "admin")
ROLE_CHAIN = ("admin", "manager", "member", "reader")
"""Each role implies the next one (admin -> manager -> member -> reader), as Keystone's bootstrap makes them
since 2024.1 (``manager``: a project manager, between admin and member)."""


@dataclass
class BootstrapResult:
    admin_user_id: str
    admin_project_id: str
    demo_user_id: str
    demo_project_id: str
    reader_role_id: str
    member_role_id: str
    admin_role_id: str
    manager_role_id: str
    domain_id: str = DEFAULT_DOMAIN_ID


def bootstrap(
    service: IdentityService,
    *,
    admin_password: str,
    demo_password: str,
    region: str = "RegionOne",
    endpoints: Sequence[tuple[str, str, str]] = (),
    service_users: Sequence[tuple[str, str]] = (),
) -> BootstrapResult:
    """Create what is missing; ``endpoints`` are (service_type, service_name, url) triples.

    ``service_users`` are (name, password) pairs: users other services act as when they call each
    other (compute binding ports, network sending vif-plugged events), admin on project ``service``.
    """
    rounds = service.conf.password_hash_rounds
    with service.db.session() as session:
        _ensure_default_domain(session)
        role_ids = {name: _ensure_role(session, name) for name in (*ROLE_CHAIN, "service")}
        for prior, implied in zip(ROLE_CHAIN, ROLE_CHAIN[1:], strict=False):
            if session.get(models.ImpliedRole, (role_ids[prior], role_ids[implied])) is None:
                session.add(models.ImpliedRole(prior_role_id=role_ids[prior], implied_role_id=role_ids[implied]))
        admin_project = _ensure_project(session, "admin", "Bootstrap project for the cloud administrator.")
        admin_user = _ensure_user(session, "admin", admin_password, admin_project.id, rounds)
        _ensure_grant(session, USER_PROJECT, admin_user.id, admin_project.id, role_ids["admin"])
        _ensure_grant(session, USER_DOMAIN, admin_user.id, DEFAULT_DOMAIN_ID, role_ids["admin"])
        # As keystone-manage bootstrap: the admin also administers the system (system-scoped tokens).
        _ensure_grant(session, USER_SYSTEM, admin_user.id, SYSTEM_TARGET, role_ids["admin"])
        demo_project = _ensure_project(session, "demo", "Project for the demo user.")
        demo_user = _ensure_user(session, "demo", demo_password, demo_project.id, rounds)
        _ensure_grant(session, USER_PROJECT, demo_user.id, demo_project.id, role_ids["member"])
        if service_users:
            service_project = _ensure_project(session, "service", "Project of the services' own users.")
            for name, password in service_users:
                user = _ensure_user(session, name, password, service_project.id, rounds)
                for role in ("admin", "service"):
                    _ensure_grant(session, USER_PROJECT, user.id, service_project.id, role_ids[role])
        if endpoints:
            _ensure_region(session, region)
            for service_type, service_name, url in endpoints:
                _ensure_endpoints(session, region, service_type, service_name, url)
        return BootstrapResult(
            admin_user_id=admin_user.id,
            admin_project_id=admin_project.id,
            demo_user_id=demo_user.id,
            demo_project_id=demo_project.id,
            reader_role_id=role_ids["reader"],
            member_role_id=role_ids["member"],
            admin_role_id=role_ids["admin"],
            manager_role_id=role_ids["manager"],
        )


def _ensure_default_domain(session: Session) -> None:
    if session.get(models.Domain, DEFAULT_DOMAIN_ID) is None:
        session.add(
            models.Domain(
                id=DEFAULT_DOMAIN_ID, name="Default", description="The default domain", enabled=True, tags=[], extra={}
            )
        )
        session.flush()


def _ensure_role(session: Session, name: str) -> str:
    stmt = sa.select(models.Role).where(models.Role.name == name, models.Role.domain_id == models.NULL_DOMAIN_ID)
    role = session.scalar(stmt)
    if role is None:
        role = models.Role(name=name, domain_id=models.NULL_DOMAIN_ID, options={}, extra={})
        session.add(role)
        session.flush()
    return role.id


def _ensure_project(session: Session, name: str, description: str) -> models.Project:
    stmt = sa.select(models.Project).where(models.Project.domain_id == DEFAULT_DOMAIN_ID, models.Project.name == name)
    project = session.scalar(stmt)
    if project is None:
        project = models.Project(
            name=name, domain_id=DEFAULT_DOMAIN_ID, description=description, enabled=True, tags=[], extra={}
        )
        session.add(project)
        session.flush()
    return project


def _ensure_user(session: Session, name: str, password: str, project_id: str, rounds: int) -> models.User:
    stmt = sa.select(models.User).where(models.User.domain_id == DEFAULT_DOMAIN_ID, models.User.name == name)
    user = session.scalar(stmt)
    if user is None:
        user = models.User(
            name=name,
            domain_id=DEFAULT_DOMAIN_ID,
            enabled=True,
            password_hash=hash_password(password, rounds),
            password_created_at=utcnow(),
            default_project_id=project_id,
            options={},
            extra={},
        )
        session.add(user)
        session.flush()
    return user


def _ensure_grant(session: Session, kind: str, actor_id: str, target_id: str, role_id: str) -> None:
    if session.get(models.Assignment, (kind, actor_id, target_id, role_id, False)) is None:
        session.add(
            models.Assignment(type=kind, actor_id=actor_id, target_id=target_id, role_id=role_id, inherited=False)
        )
        session.flush()


def _ensure_region(session: Session, region: str) -> None:
    if session.get(models.Region, region) is None:
        session.add(models.Region(id=region, extra={}))
        session.flush()


def _ensure_endpoints(session: Session, region: str, service_type: str, service_name: str, url: str) -> None:
    stmt = sa.select(models.Service).where(models.Service.type == service_type).order_by(models.Service.id)
    svc = session.scalar(stmt)
    if svc is None:
        svc = models.Service(type=service_type, name=service_name, enabled=True, extra={})
        session.add(svc)
        session.flush()
    for interface in INTERFACES:
        stmt = sa.select(models.Endpoint).where(
            models.Endpoint.service_id == svc.id,
            models.Endpoint.interface == interface,
            models.Endpoint.region_id == region,
        )
        endpoint = session.scalar(stmt)
        if endpoint is None:
            session.add(
                models.Endpoint(
                    service_id=svc.id, interface=interface, url=url, region_id=region, enabled=True, extra={}
                )
            )
        elif endpoint.url != url:
            endpoint.url = url
    session.flush()
