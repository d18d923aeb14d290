"""Server groups (os-server-groups): affinity policies; members join at server create."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.core import quotas
from stratus.compute.core.base import Deps, check_string, is_uuid, paginate, parse_int
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, NotFound

POLICIES = ("affinity", "anti-affinity", "soft-affinity", "soft-anti-affinity")


@dataclass
class GroupView:
    uuid: str
    name: str
    policy: str
    rules: dict[str, Any]
    project_id: str
    user_id: str
    members: list[str] = field(default_factory=list)


def _view(session: Session, group: models.ServerGroup) -> GroupView:
    members = session.scalars(
        sa.select(models.ServerGroupMember.instance_uuid)
        .join(models.Instance, models.Instance.uuid == models.ServerGroupMember.instance_uuid)
        .where(models.ServerGroupMember.group_uuid == group.uuid, quotas.live_instances())
        .order_by(models.Instance.created_at)
    )
    return GroupView(
        group.uuid, group.name, group.policy, dict(group.rules or {}), group.project_id, group.user_id, list(members)
    )


def parse_policy(body: dict[str, Any], version: Any) -> tuple[str, dict[str, Any]]:
    if version >= "2.64":
        if "policies" in body:
            raise BadRequest("Additional properties are not allowed ('policies' was unexpected)")
        policy, rules = body.get("policy"), body.get("rules") or {}
        if not isinstance(rules, dict) or set(rules) - {"max_server_per_host"}:
            raise BadRequest("Invalid input for field/attribute rules.")
        if rules:
            if policy != "anti-affinity":
                raise BadRequest("Only anti-affinity policy supports rules.")
            rules = {"max_server_per_host": parse_int(rules["max_server_per_host"], "max_server_per_host", 1)}
    else:
        policies = body.get("policies")
        if not isinstance(policies, list) or len(policies) != 1:
            raise BadRequest("Invalid input for field/attribute policies. Exactly one policy is required.")
        policy, rules = policies[0], {}
    allowed = POLICIES if version >= "2.15" else POLICIES[:2]
    if policy not in allowed:
        raise BadRequest(f"Invalid input for field/attribute policy. Value: {policy}. Must be one of {allowed}.")
    return policy, rules


class ServerGroupManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _get(self, session: Session, ctx: RequestContext, group_id: str, rule: str) -> models.ServerGroup:
        group = session.get(models.ServerGroup, group_id) if is_uuid(group_id) else None
        if group is None or (not ctx.is_admin and group.project_id != ctx.project_id):
            raise NotFound(f"Instance group {group_id} could not be found.")
        self.deps.enforcer.enforce(ctx, f"os_compute_api:os-server-groups:{rule}", {"project_id": group.project_id})
        return group

    def list(self, ctx: RequestContext, params: dict[str, str]) -> list[GroupView]:
        self.deps.enforcer.enforce(ctx, "os_compute_api:os-server-groups:index", {"project_id": ctx.project_id})
        query = sa.select(models.ServerGroup).order_by(models.ServerGroup.created_at, models.ServerGroup.uuid)
        if params.get("all_projects", "").lower() in ("true", "1", "yes"):
            self.deps.enforcer.enforce(ctx, "os_compute_api:os-server-groups:index:all_projects")
        else:
            query = query.where(models.ServerGroup.project_id == ctx.project_id)
        with self.deps.db.reader() as session:
            groups = list(session.scalars(query))
            if params.get("offset"):
                groups = groups[parse_int(params["offset"], "offset", 0) :]
            groups = paginate(groups, lambda g: g.uuid, params.get("limit"), None, self.deps.conf.max_limit)
            return [_view(session, g) for g in groups]

    def show(self, ctx: RequestContext, group_id: str) -> GroupView:
        with self.deps.db.reader() as session:
            return _view(session, self._get(session, ctx, group_id, "show"))

    def create(self, ctx: RequestContext, body: Any, version: Any) -> GroupView:
        self.deps.enforcer.enforce(ctx, "os_compute_api:os-server-groups:create", {"project_id": ctx.project_id})
        if not isinstance(body, dict) or not isinstance(body.get("server_group"), dict):
            raise BadRequest("Invalid input for field/attribute server_group. 'server_group' is a required property")
        data = body["server_group"]
        name = check_string(data.get("name"), "name", min_len=1)
        policy, rules = parse_policy(data, version)
        project = ctx.project_id or ""
        with self.deps.db.session() as session:
            quotas.lock_project(session, project)
            limit = quotas.limits(session, self.deps.conf, project)
            quotas.check_delta(limit, quotas.usage(session, project), {"server_groups": 1})
            group = models.ServerGroup(name=name, project_id=project, user_id=ctx.user_id, policy=policy, rules=rules)
            session.add(group)
            session.flush()
            return _view(session, group)

    def delete(self, ctx: RequestContext, group_id: str) -> None:
        with self.deps.db.session() as session:
            session.delete(self._get(session, ctx, group_id, "delete"))
