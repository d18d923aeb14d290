"""Quotas: per-project limits (config defaults, overridden in the quota table) and their usage.

Every check that is followed by an insert runs in the same write transaction, after
:func:`lock_project` has locked the project's row (``SELECT ... FOR UPDATE`` on PostgreSQL;
on SQLite the ``BEGIN IMMEDIATE`` of every write already serialises writers), so two requests
racing for the last slot cannot both get it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.conf import ComputeConfig
from stratus.compute.core import states
from stratus.compute.core.base import Deps, parse_int
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, Forbidden

RESOURCES = (
    "instances",
    "cores",
    "ram",
    "key_pairs",
    "server_groups",
    "server_group_members",
    "metadata_items",
    "injected_files",
    "injected_file_content_bytes",
    "injected_file_path_bytes",
)
COUNTED = ("instances", "cores", "ram", "server_groups")
# Shown (as fixed values) before 2.36, when Nova still proxied the network quotas.
NETWORK_PROXIES = {
    "floating_ips": 10,
    "fixed_ips": -1,
    "security_groups": 10,
    "security_group_rules": 20,
}
# Accepted by updates (Nova's schema still allows it, and ignores it) but never shown.
IGNORED_ON_UPDATE = ("networks",)


class OverQuota(Forbidden):
    """403 "Quota exceeded for ..." as Nova answers it."""


# The quota classes (only Nova's ``default`` has an effect) keep their limits in the quota table
# under this prefix; a project id is never of this form.
CLASS_PREFIX = "class:"


def config_defaults(conf: ComputeConfig) -> dict[str, int]:
    """The configured limits, plus the network proxies (stored and shown like Nova, never enforced)."""
    return {**{r: getattr(conf, f"quota_{r}") for r in RESOURCES}, **NETWORK_PROXIES}


def class_limits(session: Session, conf: ComputeConfig, class_name: str = "default") -> dict[str, int]:
    """The limits of a quota class: the configured defaults, overridden by what was set on the class."""
    values = config_defaults(conf)
    rows = session.scalars(sa.select(models.Quota).where(models.Quota.project_id == CLASS_PREFIX + class_name))
    values.update({row.resource: row.hard_limit for row in rows if row.resource in values})
    return values


def defaults(conf: ComputeConfig, session: Session | None = None) -> dict[str, int]:
    """The default limits of every project (the ``default`` quota class)."""
    if session is None:
        return config_defaults(conf)
    return class_limits(session, conf)


def limits(session: Session, conf: ComputeConfig, project_id: str) -> dict[str, int]:
    values = defaults(conf, session)
    rows = session.scalars(sa.select(models.Quota).where(models.Quota.project_id == project_id))
    values.update({row.resource: row.hard_limit for row in rows if row.resource in values})
    return values


def live_instances() -> Any:
    return sa.and_(models.Instance.deleted.is_(False), models.Instance.vm_state != states.DELETED)


def usage(session: Session, project_id: str) -> dict[str, int]:
    """What the project uses now of the counted resources."""
    row = session.execute(
        sa.select(
            sa.func.count(models.Instance.uuid),
            sa.func.coalesce(sa.func.sum(models.Instance.vcpus), 0),
            sa.func.coalesce(sa.func.sum(models.Instance.memory_mb), 0),
        ).where(models.Instance.project_id == project_id, live_instances())
    ).one()
    groups = session.scalar(
        sa.select(sa.func.count(models.ServerGroup.uuid)).where(models.ServerGroup.project_id == project_id)
    )
    return {"instances": row[0], "cores": int(row[1]), "ram": int(row[2]), "server_groups": groups or 0}


def lock_project(session: Session, project_id: str) -> None:
    """Take the project's quota lock for the rest of this transaction."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    session.execute(insert(models.ProjectLock).values(project_id=project_id, counter=0).on_conflict_do_nothing())
    query = sa.select(models.ProjectLock).where(models.ProjectLock.project_id == project_id)
    lock = session.scalar(query.with_for_update() if dialect == "postgresql" else query)
    assert lock is not None
    lock.counter += 1


def headroom(limit: int, used: int) -> int | None:
    """How many more fit (None: unlimited)."""
    return None if limit < 0 else max(0, limit - used)


def check_delta(limit_values: dict[str, int], used: dict[str, int], wanted: dict[str, int]) -> None:
    """Raise OverQuota naming the first resource that ``wanted`` more of would exceed."""
    for resource, amount in wanted.items():
        limit = limit_values[resource]
        if amount > 0 and limit >= 0 and used.get(resource, 0) + amount > limit:
            raise OverQuota(
                f"Quota exceeded for {resource}: Requested {amount}, but already used "
                f"{used.get(resource, 0)} of {limit} {resource}"
            )


class QuotaManager:
    """os-quota-sets and limits."""

    def __init__(self, deps: Deps):
        self.deps = deps

    def _enforce(self, ctx: RequestContext, rule: str, project_id: str) -> None:
        self.deps.enforcer.enforce(ctx, f"os_compute_api:os-quota-sets:{rule}", {"project_id": project_id})

    def show(self, ctx: RequestContext, project_id: str, *, detail: bool = False) -> dict[str, Any]:
        self._enforce(ctx, "detail" if detail else "show", project_id)
        with self.deps.db.reader() as session:
            values = limits(session, self.deps.conf, project_id)
            if not detail:
                return values
            used = usage(session, project_id)
            used["key_pairs"] = 0
            return {r: {"limit": v, "in_use": used.get(r, 0), "reserved": 0} for r, v in values.items()}

    def defaults(self, ctx: RequestContext, project_id: str) -> dict[str, int]:
        self._enforce(ctx, "defaults", project_id)
        with self.deps.db.reader() as session:
            return defaults(self.deps.conf, session)

    def show_class(self, ctx: RequestContext, class_name: str) -> dict[str, int]:
        self.deps.enforcer.enforce(ctx, "os_compute_api:os-quota-class-sets:show", {"quota_class": class_name})
        with self.deps.db.reader() as session:
            return class_limits(session, self.deps.conf, class_name)

    def update_class(self, ctx: RequestContext, class_name: str, body: dict[str, Any]) -> dict[str, int]:
        self.deps.enforcer.enforce(ctx, "os_compute_api:os-quota-class-sets:update", {"quota_class": class_name})
        if not isinstance(class_name, str) or not 1 <= len(class_name) <= 255:
            raise BadRequest("Invalid quota class name.")
        unknown = set(body) - set(RESOURCES) - set(NETWORK_PROXIES) - set(IGNORED_ON_UPDATE)
        if unknown:
            raise BadRequest(f"Additional properties are not allowed ({', '.join(sorted(unknown))} were unexpected)")
        wanted = {k: parse_int(v, k, -1) for k, v in body.items() if k in RESOURCES or k in NETWORK_PROXIES}
        with self.deps.db.session() as session:
            for resource, value in wanted.items():
                row = session.get(models.Quota, (CLASS_PREFIX + class_name, resource))
                if row is None:
                    session.add(models.Quota(project_id=CLASS_PREFIX + class_name, resource=resource, hard_limit=value))
                else:
                    row.hard_limit = value
            session.flush()
            return class_limits(session, self.deps.conf, class_name)

    def update(self, ctx: RequestContext, project_id: str, body: dict[str, Any]) -> dict[str, int]:
        self._enforce(ctx, "update", project_id)
        force = body.pop("force", False)
        if not isinstance(force, bool | str):
            raise BadRequest("Invalid input for field/attribute force.")
        force = force is True or str(force).lower() in ("true", "1", "yes")
        unknown = set(body) - set(RESOURCES) - set(NETWORK_PROXIES) - set(IGNORED_ON_UPDATE)
        if unknown:
            raise BadRequest(f"Additional properties are not allowed ({', '.join(sorted(unknown))} were unexpected)")
        wanted = {k: parse_int(v, k, -1) for k, v in body.items() if k in RESOURCES or k in NETWORK_PROXIES}
        with self.deps.db.session() as session:
            lock_project(session, project_id)
            used = usage(session, project_id)
            for resource, value in wanted.items():
                if not force and value >= 0 and used.get(resource, 0) > value:
                    raise BadRequest(
                        f"Quota limit {value} for {resource} must be greater than or equal to already used "
                        f"and reserved {used[resource]}."
                    )
                row = session.get(models.Quota, (project_id, resource))
                if row is None:
                    session.add(models.Quota(project_id=project_id, resource=resource, hard_limit=value))
                else:
                    row.hard_limit = value
            session.flush()
            return limits(session, self.deps.conf, project_id)

    def delete(self, ctx: RequestContext, project_id: str) -> None:
        self._enforce(ctx, "delete", project_id)
        with self.deps.db.session() as session:
            session.execute(sa.delete(models.Quota).where(models.Quota.project_id == project_id))

    def absolute_limits(self, ctx: RequestContext, project_id: str | None) -> tuple[dict[str, int], dict[str, int]]:
        """(limits, usage) for /limits; ``project_id`` other than the caller's needs admin."""
        project = project_id or ctx.project_id or ""
        if project != ctx.project_id:
            self.deps.enforcer.enforce(ctx, "os_compute_api:limits:other_project", {"project_id": project})
        self.deps.enforcer.enforce(ctx, "os_compute_api:limits", {"project_id": project})
        with self.deps.db.reader() as session:
            return limits(session, self.deps.conf, project), usage(session, project)
