"""Host aggregates (``os-aggregates``, admin only): named groups of compute hosts with metadata.

The ``availability_zone`` of an aggregate (a field, and its metadata key of that name) is the zone of its
hosts (``stratus.compute.zones``). As in Nova: names are unique; a host joins an aggregate only if it is a
compute host and is not in another zone already; an aggregate with hosts cannot be deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models, zones
from stratus.compute.core.base import Deps, check_string
from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest, Conflict, NotFound


@dataclass
class AggregateView:
    row: models.Aggregate
    hosts: list[str] = field(default_factory=list)
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def availability_zone(self) -> str | None:
        return self.metadata.get(zones.AZ_KEY)


def _zone_arg(value: Any) -> str | None:
    if value is None:
        return None
    zone = check_string(value, "availability_zone", min_len=1, max_len=255)
    if not zone.strip() or ":" in zone:
        raise BadRequest(f"Invalid input for field/attribute availability_zone. Value: {zone!r}.")
    return zone


def _name_arg(value: Any) -> str:
    name = check_string(value, "name", min_len=1, max_len=255)
    if not name.strip():
        raise BadRequest("Invalid input for field/attribute name. Value: the name is blank.")
    return name


class AggregateManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _enforce(self, ctx: RequestContext, rule: str) -> None:
        self.deps.enforcer.enforce(ctx, f"os_compute_api:os-aggregates:{rule}", {"project_id": ctx.project_id})

    # reads

    def list(self, ctx: RequestContext) -> list[AggregateView]:
        self._enforce(ctx, "index")
        with self.deps.db.reader() as session:
            rows = session.scalars(sa.select(models.Aggregate).order_by(models.Aggregate.id))
            return [self._view(session, row) for row in rows]

    def show(self, ctx: RequestContext, aggregate_id: str) -> AggregateView:
        self._enforce(ctx, "show")
        with self.deps.db.reader() as session:
            return self._view(session, self._get(session, aggregate_id))

    # writes

    def create(self, ctx: RequestContext, body: Any) -> AggregateView:
        self._enforce(ctx, "create")
        attrs = body.get("aggregate") if isinstance(body, dict) else None
        if not isinstance(attrs, dict) or set(attrs) - {"name", "availability_zone"}:
            raise BadRequest("Invalid input for field/attribute aggregate: it takes name and availability_zone.")
        name, zone = _name_arg(attrs.get("name")), _zone_arg(attrs.get("availability_zone"))
        with self.deps.db.session() as session:
            self._check_name_free(session, name)
            row = models.Aggregate(name=name)
            session.add(row)
            session.flush()
            if zone is not None:
                session.add(models.AggregateMetadata(aggregate_id=row.id, key=zones.AZ_KEY, value=zone))
            session.flush()
            return self._view(session, row)

    def update(self, ctx: RequestContext, aggregate_id: str, body: Any) -> AggregateView:
        self._enforce(ctx, "update")
        attrs = body.get("aggregate") if isinstance(body, dict) else None
        if not isinstance(attrs, dict) or not attrs or set(attrs) - {"name", "availability_zone"}:
            raise BadRequest("Invalid input for field/attribute aggregate: give name and/or availability_zone.")
        with self.deps.db.session() as session:
            row = self._get(session, aggregate_id, lock=True)
            if "name" in attrs:
                name = _name_arg(attrs["name"])
                if name != row.name:
                    self._check_name_free(session, name)
                row.name = name
            if "availability_zone" in attrs:
                self._set_metadata(session, row, {zones.AZ_KEY: _zone_arg(attrs["availability_zone"])})
            row.updated_at = utcnow()
            session.flush()
            return self._view(session, row)

    def delete(self, ctx: RequestContext, aggregate_id: str) -> None:
        self._enforce(ctx, "delete")
        with self.deps.db.session() as session:
            row = self._get(session, aggregate_id, lock=True)
            if self._hosts(session, row.id):
                raise BadRequest(f"Cannot remove aggregate {row.id}. Reason: Host aggregate is not empty.")
            session.execute(sa.delete(models.AggregateMetadata).where(models.AggregateMetadata.aggregate_id == row.id))
            session.delete(row)

    def add_host(self, ctx: RequestContext, aggregate_id: str, host: Any) -> AggregateView:
        self._enforce(ctx, "add_host")
        host = check_string(host, "host", min_len=1, max_len=255)
        with self.deps.db.session() as session:
            row = self._get(session, aggregate_id, lock=True)
            self._compute_host(session, host)
            if session.get(models.AggregateHost, (row.id, host)) is not None:
                raise Conflict(f"Aggregate {row.id} already has host {host}.")
            zone = self._metadata(session, row.id).get(zones.AZ_KEY)
            current = zones.aggregate_zone(session, host)
            if zone is not None and current is not None and current != zone:
                raise BadRequest(
                    f"Cannot add host to aggregate {row.id}. Reason: One or more hosts already in availability"
                    f" zone(s) ['{current}']."
                )
            session.add(models.AggregateHost(aggregate_id=row.id, host=host))
            row.updated_at = utcnow()
            session.flush()
            zones.refresh_hosts(session, [host], self.deps.conf.default_availability_zone)
            return self._view(session, row)

    def remove_host(self, ctx: RequestContext, aggregate_id: str, host: Any) -> AggregateView:
        self._enforce(ctx, "remove_host")
        host = check_string(host, "host", min_len=1, max_len=255)
        with self.deps.db.session() as session:
            row = self._get(session, aggregate_id, lock=True)
            member = session.get(models.AggregateHost, (row.id, host))
            if member is None:
                raise NotFound(f"Cannot remove host {host} in aggregate {row.id}: it is not a member.")
            session.delete(member)
            row.updated_at = utcnow()
            session.flush()
            zones.refresh_hosts(session, [host], self.deps.conf.default_availability_zone)
            return self._view(session, row)

    def set_metadata(self, ctx: RequestContext, aggregate_id: str, args: Any) -> AggregateView:
        """``{"metadata": {key: value or null}}``: null removes the key; ``availability_zone`` moves the hosts."""
        self._enforce(ctx, "set_metadata")
        metadata = args.get("metadata") if isinstance(args, dict) else None
        if not isinstance(metadata, dict):
            raise BadRequest("Invalid input for field/attribute set_metadata. 'metadata' is a required property")
        changes: dict[str, str | None] = {}
        for key, value in metadata.items():
            check_string(key, "metadata key", min_len=1, max_len=255)
            changes[key] = (
                _zone_arg(value)
                if key == zones.AZ_KEY
                else (None if value is None else check_string(value, f"metadata {key}", max_len=255))
            )
        with self.deps.db.session() as session:
            row = self._get(session, aggregate_id, lock=True)
            self._set_metadata(session, row, changes)
            row.updated_at = utcnow()
            session.flush()
            return self._view(session, row)

    # helpers

    def _set_metadata(self, session: Session, row: models.Aggregate, changes: dict[str, str | None]) -> None:
        zone = changes.get(zones.AZ_KEY, "")
        hosts = self._hosts(session, row.id)
        if zone and hosts:  # a new zone for the hosts: none may be in another zone through another aggregate
            others = session.scalars(
                sa.select(models.AggregateMetadata.value)
                .join(models.AggregateHost, models.AggregateHost.aggregate_id == models.AggregateMetadata.aggregate_id)
                .where(
                    models.AggregateHost.host.in_(hosts),
                    models.AggregateHost.aggregate_id != row.id,
                    models.AggregateMetadata.key == zones.AZ_KEY,
                    models.AggregateMetadata.value != zone,
                )
            ).first()
            if others is not None:
                raise BadRequest(
                    f"Cannot update aggregate {row.id}. Reason: One or more hosts already in availability"
                    f" zone(s) ['{others}']."
                )
        for key, value in changes.items():
            existing = session.get(models.AggregateMetadata, (row.id, key))
            if value is None:
                if existing is not None:
                    session.delete(existing)
            elif existing is None:
                session.add(models.AggregateMetadata(aggregate_id=row.id, key=key, value=value))
            else:
                existing.value = value
        session.flush()
        if zones.AZ_KEY in changes:
            zones.refresh_hosts(session, hosts, self.deps.conf.default_availability_zone)

    @staticmethod
    def _check_name_free(session: Session, name: str) -> None:
        if session.scalar(sa.select(models.Aggregate.id).where(models.Aggregate.name == name)) is not None:
            raise Conflict(f"Aggregate {name} already exists.")

    @staticmethod
    def _get(session: Session, aggregate_id: str, *, lock: bool = False) -> models.Aggregate:
        row = None
        if str(aggregate_id).isdigit():
            row = session.get(models.Aggregate, int(aggregate_id), with_for_update=lock)
        if row is None:
            raise NotFound(f"Aggregate {aggregate_id} could not be found.")
        return row

    @staticmethod
    def _compute_host(session: Session, host: str) -> None:
        found = session.scalar(
            sa.select(models.ComputeService.id).where(
                models.ComputeService.host == host, models.ComputeService.binary.like("%compute")
            )
        )
        if found is None:
            raise NotFound(f"Compute host {host} could not be found.")

    @staticmethod
    def _hosts(session: Session, aggregate_id: int) -> list[str]:
        return list(
            session.scalars(
                sa.select(models.AggregateHost.host)
                .where(models.AggregateHost.aggregate_id == aggregate_id)
                .order_by(models.AggregateHost.host)
            )
        )

    @staticmethod
    def _metadata(session: Session, aggregate_id: int) -> dict[str, str]:
        rows = session.scalars(
            sa.select(models.AggregateMetadata).where(models.AggregateMetadata.aggregate_id == aggregate_id)
        )
        return {m.key: m.value for m in rows}

    def _view(self, session: Session, row: models.Aggregate) -> AggregateView:
        return AggregateView(row, self._hosts(session, row.id), self._metadata(session, row.id))
