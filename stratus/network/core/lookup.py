"""Loading rows the caller may see; anything invisible is Neutron's ``<Kind>NotFound`` (404)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.context import RequestContext
from stratus.network import models
from stratus.network.errors import not_found

DHCP_OWNERS = ("network:dhcp", "network:distributed")
"""Ports the service itself manages on a network (deleted with the network or subnet)."""


def network_visible_clause(ctx: RequestContext) -> Any:
    if ctx.is_admin:
        return sa.true()
    m = models.Network
    return sa.or_(m.project_id == ctx.project_id, m.shared.is_(True), m.external.is_(True))


def network(session: Session, ctx: RequestContext, network_id: str) -> models.Network:
    row = session.get(models.Network, network_id)
    if row is None or not (ctx.is_admin or row.project_id == ctx.project_id or row.shared or row.external):
        raise not_found("Network", network_id)
    return row


def subnet(session: Session, ctx: RequestContext, subnet_id: str) -> models.Subnet:
    row = session.get(models.Subnet, subnet_id)
    if row is None:
        raise not_found("Subnet", subnet_id)
    if not (ctx.is_admin or row.project_id == ctx.project_id):
        net = session.get(models.Network, row.network_id)
        if net is None or not (net.shared or net.external):
            raise not_found("Subnet", subnet_id)
    return row


def owned(session: Session, ctx: RequestContext, model: Any, kind: str, ident: str) -> Any:
    """A port, router, security group or floating IP of the caller's project (any project for admins)."""
    row = session.get(model, ident)
    if row is None or not (ctx.is_admin or row.project_id == ctx.project_id):
        raise not_found(kind, ident)
    return row


def ports_of(session: Session, **where: Any) -> list[models.Port]:
    query = sa.select(models.Port)
    for key, value in where.items():
        query = query.where(getattr(models.Port, key) == value)
    return list(session.scalars(query))
