"""Live migration, conductor side: claim the destination, hand the move to the source, record the outcome.

As Nova's ``LiveMigrationTask``: the destination is the requested host (checked by the scheduler) or
one the scheduler picks (never the source); the source's allocations move to the migration consumer
(``moves.migration_consumer``) while the instance's own hold the destination's. The source agent asks
the destination to prepare (``pre_live_migration``: disk on the base image, VIFs plugged), moves the
running guest and reports back (``live_migration_finished``). The ports stay bound to the source until
then. On success the conductor rebinds the ports to the destination, moves the instance there, frees
the source's share and has the source drop its copy (``cleanup_instance``: instance dir, VIFs). On
failure the guest still runs on the source: the destination's claim is freed, the server is ACTIVE (or
PAUSED) again with a fault, and the migration is 'error'.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute.messages import RequestSpec
from stratus.compute.models import Instance, Migration, ResourceProvider
from stratus.compute.move_tasks import MoveTaskBase, migration_by_uuid
from stratus.compute.moves import flavor_db_id, migration_consumer
from stratus.compute.ports import PortAllocationError
from stratus.compute.scheduler import claims
from stratus.compute.scheduler.filters import HostState
from stratus.compute.scheduler.manager import ClaimAborted

LOG = logging.getLogger(__name__)

LIVE_MIGRATION = "live-migration"
MIGRATING = "migrating"


class LiveMigrationTasks(MoveTaskBase):
    """The conductor's half of a live migration; ``ConductorManager`` exposes it over the bus.

    Its dependencies (the conductor's helpers among them) are a ``move_tasks.MoveDeps``.
    """

    def start(self, ctx: dict[str, Any], instance_uuid: str, spec: RequestSpec, block_migration: bool) -> str | None:
        """Claim a destination and cast the move to the source; None once started, else why not.

        On refusal the allocations are as they were, the migration is 'error' and the caller resets the task.
        """
        mig = migration_consumer(instance_uuid)
        with self._db.session() as session:
            inst = session.get(Instance, instance_uuid)
            if inst is None or inst.deleted:
                return f"Instance {instance_uuid} could not be found."
            source = inst.host
            record = Migration(
                instance_uuid=instance_uuid,
                migration_type=LIVE_MIGRATION,
                status="accepted",
                source_compute=source,
                source_node=inst.node,
                dest_compute=spec.requested_host,
                old_instance_type_id=flavor_db_id(session, inst.flavor),
                new_instance_type_id=flavor_db_id(session, inst.flavor),
                project_id=inst.project_id,
                user_id=inst.user_id,
            )
            session.add(record)
            claims.free(session, mig)
            claims.move(session, instance_uuid, mig)
            session.flush()
            record_uuid = record.uuid
        sel = self._scheduler.select_destinations(spec, on_claim=self._on_claim)[0]
        if sel.error is not None or sel.host is None or sel.host == source:
            self._undo_claim(instance_uuid, record_uuid)
            return sel.error or f"host {sel.host} is the server's own host"
        dest = sel.host
        with self._db.session() as session:
            record = migration_by_uuid(session, record_uuid)
            record.dest_compute = record.dest_node = dest
            record.dest_host = session.scalar(sa.select(ResourceProvider.host_ip).where(ResourceProvider.host == dest))
            record.status = "preparing"
        instance = self._instance_spec(instance_uuid, spec)  # with the image (the API put it in the spec)
        if instance is None or source is None:
            self._undo_claim(instance_uuid, record_uuid)
            return f"Instance {instance_uuid} could not be found."
        move = {"uuid": record_uuid, "source_compute": source, "dest_compute": dest, "block_migration": block_migration}
        try:
            self._agents.live_migration({**ctx, "migration": move}, source, instance, dest)
        except Exception as exc:
            self._undo_claim(instance_uuid, record_uuid)
            return f"The source host {source} could not be reached: {exc}"
        return None

    def finished(self, ctx: dict[str, Any], host: str, instance_uuid: str, error: str | None, power_state: int) -> None:
        """The source's report: the guest runs on the destination now (``error`` None), or still here."""
        move = ctx.get("migration") or {}
        with self._db.reader() as session:
            record = _record(session, instance_uuid, str(move.get("uuid") or ""))
            record_uuid = record.uuid if record is not None else None
            dest = (record.dest_compute if record is not None else None) or str(move.get("dest_compute") or "")
            source = (record.source_compute if record is not None else None) or host
        if error is not None:
            self._failed(instance_uuid, record_uuid, source, dest, power_state, error)
            return
        old_vifs: list[dict[str, Any]] = []
        try:
            old_vifs = self._rebind(instance_uuid, dest)
        except PortAllocationError as exc:  # the guest already runs there: say so, and carry on
            LOG.warning("ports of %s could not be moved to %s: %s", instance_uuid, dest, exc)
            self._fault(instance_uuid, dest, f"Live migration: the ports could not be moved to {dest}: {exc}")
        with self._db.session() as session:
            claims.free(session, migration_consumer(instance_uuid))
            if record_uuid is not None:
                migration_by_uuid(session, record_uuid).status = "completed"
            inst = session.get(Instance, instance_uuid)
            if inst is None or inst.deleted:
                return
            inst.host = inst.node = dest
            inst.task_state, inst.power_state = None, power_state
        self._notify(instance_uuid)
        spec = self._instance_spec(instance_uuid, None)
        if spec is not None:
            self._agents.post_live_migration_at_destination(ctx, dest, spec)
        self._agents.cleanup_instance(ctx, source, instance_uuid, old_vifs)

    def _failed(
        self,
        instance_uuid: str,
        record_uuid: str | None,
        source: str,
        dest: str,
        power_state: int,
        error: str,
    ) -> None:
        """The guest stayed on the source: the destination's claim is freed, the server is as before with a fault."""
        self._fault(instance_uuid, source, f"Live migration to {dest} failed: {error}")
        with self._db.session() as session:
            claims.free(session, instance_uuid)  # the destination's claim (the source's is the migration's)
            claims.move(session, migration_consumer(instance_uuid), instance_uuid)
            if record_uuid:
                migration_by_uuid(session, record_uuid).status = "error"
            inst = session.get(Instance, instance_uuid)
            if inst is not None and not inst.deleted:
                inst.host = inst.node = source
                inst.task_state = None
                if power_state:
                    inst.power_state = power_state
        self._notify(instance_uuid)

    def _on_claim(self, session: Session, instance_uuid: str, host: HostState) -> None:
        inst = session.get(Instance, instance_uuid)
        if inst is None or inst.deleted or inst.task_state != MIGRATING:
            raise ClaimAborted(instance_uuid)

    def _undo_claim(self, instance_uuid: str, record_uuid: str) -> None:
        with self._db.session() as session:
            claims.free(session, instance_uuid)
            claims.move(session, migration_consumer(instance_uuid), instance_uuid)
            migration_by_uuid(session, record_uuid).status = "error"

    def _rebind(self, instance_uuid: str, host: str) -> list[dict[str, Any]]:
        """Bind the server's ports to ``host``; returns the ``network_info`` as it was (what the source unplugs)."""
        return self._rebind_ports(instance_uuid, host)[0]


def _record(session: Session, instance_uuid: str, migration_uuid: str) -> Migration | None:
    if migration_uuid:
        found = session.scalars(sa.select(Migration).where(Migration.uuid == migration_uuid)).first()
        if found is not None:
            return found
    query = (
        sa.select(Migration)
        .where(Migration.instance_uuid == instance_uuid, Migration.migration_type == LIVE_MIGRATION)
        .order_by(Migration.id.desc())
    )
    return session.scalars(query).first()
