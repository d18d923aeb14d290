"""Quotas: per-project limits (defaults from config), counted inside the write transaction."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.context import RequestContext
from stratus.network import models
from stratus.network.core.base import Deps, authorize
from stratus.network.errors import NeutronBadRequest, conflict

COUNTED: dict[str, Any] = {
    "network": models.Network,
    "subnet": models.Subnet,
    "port": models.Port,
    "router": models.Router,
    "floatingip": models.FloatingIP,
    "security_group": models.SecurityGroup,
    "security_group_rule": models.SecurityGroupRule,
}


def limits(session: Session, deps: Deps, project_id: str) -> dict[str, int]:
    out = {name: deps.conf.quotas.get(name, -1) for name in COUNTED}
    for row in session.scalars(sa.select(models.Quota).where(models.Quota.project_id == project_id)):
        out[row.resource] = row.limit
    return out


def usage(session: Session, project_id: str, resource: str) -> int:
    model = COUNTED[resource]
    return session.scalar(sa.select(sa.func.count()).select_from(model).where(model.project_id == project_id)) or 0


def check(session: Session, deps: Deps, project_id: str, resource: str, adding: int = 1) -> None:
    """409 OverQuota when ``adding`` more of ``resource`` would pass the project's limit."""
    limit = limits(session, deps, project_id).get(resource, -1)
    if limit >= 0 and usage(session, project_id, resource) + adding > limit:
        raise conflict("OverQuota", f"Quota exceeded for resources: ['{resource}'].")


class QuotaManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def show(self, ctx: RequestContext, project_id: str) -> dict[str, Any]:
        authorize(self.deps, ctx, "get_quota", {"project_id": project_id})
        with self.deps.db.reader() as session:
            return {"quota": limits(session, self.deps, project_id)}

    def defaults(self, ctx: RequestContext, project_id: str) -> dict[str, Any]:
        authorize(self.deps, ctx, "get_quota", {"project_id": project_id})
        return {"quota": {name: self.deps.conf.quotas.get(name, -1) for name in COUNTED}}

    def details(self, ctx: RequestContext, project_id: str) -> dict[str, Any]:
        authorize(self.deps, ctx, "get_quota", {"project_id": project_id})
        with self.deps.db.reader() as session:
            caps = limits(session, self.deps, project_id)
            quota = {n: {"limit": caps[n], "used": usage(session, project_id, n), "reserved": 0} for n in COUNTED}
        return {"quota": quota}

    def list(self, ctx: RequestContext) -> dict[str, Any]:
        authorize(self.deps, ctx, "list_quotas", {})
        with self.deps.db.reader() as session:
            projects = sorted(set(session.scalars(sa.select(models.Quota.project_id))))
            quotas = [{**limits(session, self.deps, p), "project_id": p, "tenant_id": p} for p in projects]
        return {"quotas": quotas}

    def update(self, ctx: RequestContext, project_id: str, body: Any) -> dict[str, Any]:
        authorize(self.deps, ctx, "update_quota", {"project_id": project_id})
        values = body.get("quota") if isinstance(body, dict) else None
        if not isinstance(values, dict) or not values:
            raise NeutronBadRequest("Resource body required: expected an object named 'quota'.")
        for name, value in values.items():
            if name not in COUNTED:
                raise NeutronBadRequest(f"Unrecognized attribute(s) '{name}'")
            if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).lstrip("-").isdigit():
                raise NeutronBadRequest(f"Invalid input for {name}. Reason: '{value}' is not an integer.")
            if int(value) < -1:
                raise NeutronBadRequest(f"Invalid input for {name}. Reason: '{value}' should be >= -1.")
        with self.deps.db.session() as session:
            for name, value in values.items():
                row = session.get(models.Quota, (project_id, name))
                if row is None:
                    session.add(models.Quota(project_id=project_id, resource=name, limit=int(value)))
                else:
                    row.limit = int(value)
            session.flush()
            return {"quota": limits(session, self.deps, project_id)}

    def delete(self, ctx: RequestContext, project_id: str) -> None:
        authorize(self.deps, ctx, "delete_quota", {"project_id": project_id})
        with self.deps.db.session() as session:
            session.execute(sa.delete(models.Quota).where(models.Quota.project_id == project_id))
