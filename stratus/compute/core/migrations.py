"""``os-migrations``: the migration records of every project, for admins (Nova's ``migrations.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from stratus.compute import models
from stratus.compute.core.base import Deps, is_uuid, paginate, parse_bool
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest


def parse_time(value: str, name: str) -> dt.datetime:
    """An ISO 8601 time (naive UTC, as the database keeps times), else 400."""
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}.") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


class MigrationManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def list(self, ctx: RequestContext, params: dict[str, str], version: Any) -> list[models.Migration]:
        """Newest first; filters host (source or destination), status, instance_uuid, source_compute,
        migration_type (2.23), hidden, changes-since (2.59), changes-before (2.66); limit/marker (2.59)."""
        self.deps.enforcer.enforce(ctx, "os_compute_api:os-migrations:index", {"project_id": ctx.project_id})
        m = models.Migration
        query = sa.select(m).order_by(m.created_at.desc(), m.id.desc())
        if "hidden" not in params or not parse_bool(params["hidden"], "hidden"):
            query = query.where(m.hidden.is_(False))
        if params.get("host"):
            query = query.where(sa.or_(m.source_compute == params["host"], m.dest_compute == params["host"]))
        for key, column in (
            ("status", m.status),
            ("instance_uuid", m.instance_uuid),
            ("source_compute", m.source_compute),
        ):
            if params.get(key):
                query = query.where(column == params[key])
        if version >= "2.23" and params.get("migration_type"):
            query = query.where(m.migration_type == params["migration_type"])
        if version >= "2.59" and params.get("changes-since"):
            query = query.where(
                sa.func.coalesce(m.updated_at, m.created_at) >= parse_time(params["changes-since"], "changes-since")
            )
        if version >= "2.66" and params.get("changes-before"):
            query = query.where(
                sa.func.coalesce(m.updated_at, m.created_at) <= parse_time(params["changes-before"], "changes-before")
            )
        with self.deps.db.reader() as session:
            found = list(session.scalars(query))
        if version < "2.59":
            return found
        marker = params.get("marker")
        if marker is not None and not is_uuid(marker):
            raise BadRequest(f"Marker {marker} could not be found.")
        try:
            return paginate(found, lambda r: r.uuid, params.get("limit"), marker, self.deps.conf.max_limit)
        except BadRequest:
            raise BadRequest(f"Marker {marker} could not be found.") from None
