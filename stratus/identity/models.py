"""Identity's tables. Only the identity service reads or writes them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from stratus.core.db import utcnow

NULL_DOMAIN_ID = "<<null>>"
"""Global roles store this instead of NULL so (name, domain_id) can be unique in SQL."""


def new_id() -> str:
    return uuid.uuid4().hex


class IdentityBase(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: sa.JSON, list[str]: sa.JSON}


class Domain(IdentityBase):
    __tablename__ = "domain"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255), unique=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    tags: Mapped[list[str]] = mapped_column(default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Project(IdentityBase):
    __tablename__ = "project"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uq_project_domain_name"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    domain_id: Mapped[str] = mapped_column(sa.ForeignKey("domain.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(sa.ForeignKey("project.id"), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    tags: Mapped[list[str]] = mapped_column(default=list)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class User(IdentityBase):
    __tablename__ = "user"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uq_user_domain_name"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    domain_id: Mapped[str] = mapped_column(sa.ForeignKey("domain.id"), index=True)
    enabled: Mapped[bool] = mapped_column(default=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    password_created_at: Mapped[dt.datetime | None]
    password_expires_at: Mapped[dt.datetime | None]
    default_project_id: Mapped[str | None] = mapped_column(sa.String(64))
    description: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Group(IdentityBase):
    __tablename__ = "group"
    __table_args__ = (sa.UniqueConstraint("domain_id", "name", name="uq_group_domain_name"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    domain_id: Mapped[str] = mapped_column(sa.ForeignKey("domain.id"), index=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class UserGroupMembership(IdentityBase):
    __tablename__ = "user_group_membership"
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    group_id: Mapped[str] = mapped_column(sa.ForeignKey("group.id", ondelete="CASCADE"), primary_key=True, index=True)


class Role(IdentityBase):
    __tablename__ = "role"
    __table_args__ = (sa.UniqueConstraint("name", "domain_id", name="uq_role_name_domain"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    domain_id: Mapped[str] = mapped_column(sa.String(64), default=NULL_DOMAIN_ID)
    description: Mapped[str | None] = mapped_column(sa.Text)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ImpliedRole(IdentityBase):
    __tablename__ = "implied_role"
    prior_role_id: Mapped[str] = mapped_column(sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True)
    implied_role_id: Mapped[str] = mapped_column(sa.ForeignKey("role.id", ondelete="CASCADE"), primary_key=True)


class Assignment(IdentityBase):
    """A role granted to an actor (user or group) on a target (project or domain)."""

    __tablename__ = "assignment"
    type: Mapped[str] = mapped_column(sa.String(16), primary_key=True)  # UserProject GroupProject UserDomain ...
    actor_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, index=True)
    target_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, index=True)
    role_id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, index=True)
    inherited: Mapped[bool] = mapped_column(primary_key=True, default=False)


class Region(IdentityBase):
    __tablename__ = "region"
    id: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    description: Mapped[str | None] = mapped_column(sa.Text)
    parent_region_id: Mapped[str | None] = mapped_column(sa.String(255))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Service(IdentityBase):
    __tablename__ = "service"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str | None] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    enabled: Mapped[bool] = mapped_column(default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Endpoint(IdentityBase):
    __tablename__ = "endpoint"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    service_id: Mapped[str] = mapped_column(sa.ForeignKey("service.id"), index=True)
    interface: Mapped[str] = mapped_column(sa.String(8))
    url: Mapped[str] = mapped_column(sa.Text)
    region_id: Mapped[str | None] = mapped_column(sa.String(255))
    enabled: Mapped[bool] = mapped_column(default=True)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ApplicationCredential(IdentityBase):
    __tablename__ = "application_credential"
    __table_args__ = (sa.UniqueConstraint("user_id", "name", name="uq_app_cred_user_name"),)
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str] = mapped_column(sa.String(64))
    secret_hash: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    expires_at: Mapped[dt.datetime | None]
    unrestricted: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    role_ids: Mapped[list[str]] = mapped_column(default=list)


class Credential(IdentityBase):
    """``/v3/credentials``: an opaque secret (``blob``) a user keeps in identity, e.g. EC2 keys."""

    __tablename__ = "credential"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[str | None] = mapped_column(sa.String(64))
    type: Mapped[str] = mapped_column(sa.String(255))
    blob: Mapped[str] = mapped_column(sa.Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Policy(IdentityBase):
    """``/v3/policies``: opaque policy documents kept for other services (Keystone stores, never reads them)."""

    __tablename__ = "policy"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    type: Mapped[str] = mapped_column(sa.String(255))
    blob: Mapped[str] = mapped_column(sa.Text)
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class EndpointGroup(IdentityBase):
    """``/v3/OS-EP-FILTER/endpoint_groups``: a named filter (e.g. by service or interface) over the endpoints."""

    __tablename__ = "endpoint_group"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str | None] = mapped_column(sa.Text)
    filters: Mapped[dict[str, Any]] = mapped_column(default=dict)


class OAuthConsumer(IdentityBase):
    """``/v3/OS-OAUTH1/consumers``: OAuth 1.0a consumers (the delegation flow itself is not implemented)."""

    __tablename__ = "oauth_consumer"
    id: Mapped[str] = mapped_column(sa.String(64), primary_key=True, default=new_id)
    description: Mapped[str | None] = mapped_column(sa.Text)
    secret: Mapped[str] = mapped_column(sa.String(64))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)


class DomainConfig(IdentityBase):
    """``/v3/domains/{id}/config``: a domain's identity back-end options, ``{group: {option: value}}``."""

    __tablename__ = "domain_config"
    domain_id: Mapped[str] = mapped_column(sa.ForeignKey("domain.id", ondelete="CASCADE"), primary_key=True)
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)


class RevocationEvent(IdentityBase):
    """Tokens matching every non-null field and issued before ``issued_before`` are revoked."""

    __tablename__ = "revocation_event"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    audit_id: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    user_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    project_id: Mapped[str | None] = mapped_column(sa.String(64))
    domain_id: Mapped[str | None] = mapped_column(sa.String(64))
    application_credential_id: Mapped[str | None] = mapped_column(sa.String(64))
    issued_before: Mapped[dt.datetime]
    revoked_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
