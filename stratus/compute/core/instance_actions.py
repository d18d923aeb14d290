"""Instance actions (os-instance-actions): what was asked of a server, and the events of each."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.core.base import Deps, is_uuid
from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import NotFound


def record(session: Session, ctx: RequestContext, instance_uuid: str, action: str, *, finished: bool = False) -> None:
    """Start an action under the request id (the conductor adds its events)."""
    now = utcnow()
    session.add(
        models.InstanceAction(
            action=action,
            instance_uuid=instance_uuid,
            request_id=ctx.request_id or f"req-{instance_uuid}",
            user_id=ctx.user_id,
            project_id=ctx.project_id or "",
            start_time=now,
            finish_time=now if finished else None,
        )
    )


class InstanceActionManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _instance(self, session: Session, ctx: RequestContext, server_id: str, rule: str) -> models.Instance:
        inst = session.get(models.Instance, server_id) if is_uuid(server_id) else None
        if inst is None or (not ctx.is_admin and inst.project_id != ctx.project_id):
            raise NotFound(f"Instance {server_id} could not be found.")
        self.deps.enforcer.enforce(ctx, f"os_compute_api:os-instance-actions:{rule}", {"project_id": inst.project_id})
        return inst

    def list(self, ctx: RequestContext, server_id: str) -> list[models.InstanceAction]:
        with self.deps.db.reader() as session:
            self._instance(session, ctx, server_id, "list")
            query = (
                sa.select(models.InstanceAction)
                .where(models.InstanceAction.instance_uuid == server_id)
                .order_by(models.InstanceAction.start_time.desc(), models.InstanceAction.id.desc())
            )
            return list(session.scalars(query))

    def show(
        self, ctx: RequestContext, server_id: str, request_id: str
    ) -> tuple[models.InstanceAction, list[models.InstanceActionEvent], bool]:
        """The action, its events, and whether the caller may see event details."""
        with self.deps.db.reader() as session:
            self._instance(session, ctx, server_id, "show")
            action = session.scalar(
                sa.select(models.InstanceAction).where(
                    models.InstanceAction.instance_uuid == server_id, models.InstanceAction.request_id == request_id
                )
            )
            if action is None:
                raise NotFound(f"Action for request_id {request_id} on instance {server_id} not found")
            events: list[Any] = []
            if self.deps.enforcer.authorize(
                ctx, "os_compute_api:os-instance-actions:events", {"project_id": action.project_id}
            ):
                query = (
                    sa.select(models.InstanceActionEvent)
                    .where(models.InstanceActionEvent.action_id == action.id)
                    .order_by(models.InstanceActionEvent.start_time, models.InstanceActionEvent.id)
                )
                events = list(session.scalars(query))
            details = self.deps.enforcer.authorize(ctx, "os_compute_api:os-instance-actions:events:details")
            return action, events, details
