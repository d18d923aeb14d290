"""Server metadata (/servers/{id}/metadata): quota-checked in the same transaction as the write."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.core import quotas
from stratus.compute.core.base import Deps, get_instance
from stratus.compute.core.servers import check_lock, check_metadata
from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest, NotFound


def _current(session: Session, uuid: str) -> dict[str, str]:
    rows = session.scalars(sa.select(models.InstanceMetadata).where(models.InstanceMetadata.instance_uuid == uuid))
    return {r.key: r.value for r in rows}


class MetadataManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _instance(self, session: Session, ctx: RequestContext, server_id: str, rule: str) -> models.Instance:
        inst = get_instance(session, ctx, server_id)
        self.deps.enforcer.enforce(ctx, f"os_compute_api:server-metadata:{rule}", {"project_id": inst.project_id})
        if rule not in ("index", "show"):
            check_lock(ctx, inst)
        return inst

    def get(self, ctx: RequestContext, server_id: str, key: str | None = None) -> dict[str, str]:
        with self.deps.db.reader() as session:
            inst = self._instance(session, ctx, server_id, "show" if key else "index")
            meta = _current(session, inst.uuid)
        if key is None:
            return meta
        if key not in meta:
            raise NotFound("Metadata item was not found")
        return {key: meta[key]}

    def write(
        self, ctx: RequestContext, server_id: str, body: Any, *, replace: bool, key: str | None = None
    ) -> dict[str, str]:
        """POST merges, PUT replaces all; PUT /metadata/{key} sets one (body ``{"meta": {key: value}}``)."""
        field = "meta" if key else "metadata"
        if not isinstance(body, dict) or not isinstance(body.get(field), dict):
            raise BadRequest(f"Malformed request body: '{field}' is a required property")
        new = check_metadata(body[field], field)
        if key is not None and (len(new) != 1 or key not in new):
            raise BadRequest("Request body and URI mismatch")
        rule = "update" if key else ("update_all" if replace else "create")
        with self.deps.db.session() as session:
            inst = self._instance(session, ctx, server_id, rule)
            current = _current(session, inst.uuid)
            merged = new if replace else {**current, **new}
            limit = quotas.limits(session, self.deps.conf, inst.project_id)
            quotas.check_delta(limit, {"metadata_items": 0}, {"metadata_items": len(merged)})
            session.execute(
                sa.delete(models.InstanceMetadata).where(models.InstanceMetadata.instance_uuid == inst.uuid)
            )
            session.flush()
            for k, v in merged.items():
                session.add(models.InstanceMetadata(instance_uuid=inst.uuid, key=k, value=v))
            inst.updated_at = utcnow()
        return new if key else merged

    def delete(self, ctx: RequestContext, server_id: str, key: str) -> None:
        with self.deps.db.session() as session:
            inst = self._instance(session, ctx, server_id, "delete")
            row = session.get(models.InstanceMetadata, (inst.uuid, key))
            if row is None:
                raise NotFound("Metadata item was not found")
            session.delete(row)
            inst.updated_at = utcnow()
