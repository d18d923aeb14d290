"""Moving servers between hosts, conductor side: resize, cold migration and evacuation.

Every move has a ``Migration`` row (``os-migrations``). A resize or cold migration holds the old
flavor's allocations under the migration consumer (``migration_consumer``) while the new host's are
the instance's own, until confirm (old ones freed) or revert (new ones freed, old ones handed back).
Between two hosts, as Nova does it: the conductor claims the destination and rebinds the ports
there (``InstancePorts.rebind``); the source powers its guest off and hands over (``prep_migration``);
the destination plugs the VIFs, waits for ``network-vif-plugged`` and starts the guest (VERIFY_RESIZE).
Confirm drops the source's copy and unplugs it there; revert drops the destination's, rebinds the
ports to the source, which plugs them again and starts its guest (``finish_revert_resize``).

An evacuation (the server's host is down) claims another host for the instance, rebinds the ports
there and has that host build the guest from its image; once it runs, the old host's allocations
are freed. When the old host's agent comes back it destroys its stale copy before it reports in
(``evacuated_instances`` / ``evacuations_cleaned``), as Nova's ``_destroy_evacuated_instances``.
"""

from __future__ import annotations

import logging
import uuid as uuidlib
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import messages
from stratus.compute.messages import FlavorSpec, InstanceSpec, RequestSpec
from stratus.compute.models import Flavor, Instance, Migration, ResourceProvider
from stratus.compute.move_tasks import MoveTaskBase, migration_by_uuid
from stratus.compute.ports import PortAllocationError, vif_specs
from stratus.compute.scheduler import claims
from stratus.compute.scheduler.filters import HostState
from stratus.compute.scheduler.manager import ClaimAborted

LOG = logging.getLogger(__name__)

_MIGRATION_NS = uuidlib.UUID("5b3f0a0e-2f6c-4c1e-9a53-2b4a3c7d9e10")
RESIZE_TYPES = ("migration", "resize")
EVACUATION = "evacuation"
EVACUATION_PENDING = ("accepted", "pre-migrating", "done")


def migration_consumer(instance_uuid: str) -> str:
    """The consumer holding an instance's old-flavor allocations during a resize or cold migration."""
    return str(uuidlib.uuid5(_MIGRATION_NS, instance_uuid))


def latest_migration(session: Session, instance_uuid: str, types: tuple[str, ...]) -> Migration | None:
    query = (
        sa.select(Migration)
        .where(Migration.instance_uuid == instance_uuid, Migration.migration_type.in_(types))
        .order_by(Migration.id.desc())
    )
    return session.scalars(query).first()


def flavor_db_id(session: Session, flavor: dict[str, Any] | None) -> int | None:
    """The flavor's row id (``old/new_instance_type_id``), or None if the flavor was deleted since."""
    if not flavor or not flavor.get("flavorid"):
        return None
    return session.scalar(sa.select(Flavor.id).where(Flavor.flavorid == str(flavor["flavorid"])))


class MoveTasks(MoveTaskBase):
    """The conductor's half of every move; ``ConductorManager`` exposes these over the bus.

    Its dependencies (the conductor's helpers among them) are a ``move_tasks.MoveDeps``.
    """

    # resize and cold migration

    def start(self, ctx: dict[str, Any], instance_uuid: str, spec: RequestSpec, migration_type: str) -> str | None:
        """Claim a host for ``spec.flavor`` and start the move; None if started, else why not (nothing changed).

        On failure the allocations are as they were and the migration is 'error'; the caller resets the server.
        """
        mig = migration_consumer(instance_uuid)
        with self._db.session() as session:
            inst = session.get(Instance, instance_uuid)
            if inst is None or inst.deleted:
                return f"Instance {instance_uuid} could not be found."
            source = inst.host
            record = Migration(
                instance_uuid=instance_uuid,
                migration_type=migration_type,
                status="pre-migrating",
                source_compute=source,
                source_node=inst.node,
                old_instance_type_id=flavor_db_id(session, inst.flavor),
                new_instance_type_id=flavor_db_id(session, spec.flavor.to_dict()),
                project_id=inst.project_id,
                user_id=inst.user_id,
            )
            session.add(record)
            claims.free(session, mig)
            claims.move(session, instance_uuid, mig)
            session.flush()
            record_uuid = record.uuid
        sel = self._scheduler.select_destinations(spec, on_claim=self._on_resize_claim)[0]
        if sel.error is not None or sel.host is None:
            self._undo_claim(instance_uuid, record_uuid)
            return sel.error or "resize aborted"
        dest = sel.host
        with self._db.session() as session:
            record = migration_by_uuid(session, record_uuid)
            record.dest_compute = record.dest_node = dest
            record.dest_host = session.scalar(sa.select(ResourceProvider.host_ip).where(ResourceProvider.host == dest))
            record.status = "migrating"
        instance = self._instance_spec(instance_uuid, spec)
        if instance is None:
            return None
        instance = replace(instance, flavor=spec.flavor)
        move = {"uuid": record_uuid, "source_compute": source, "dest_compute": dest}
        ctx = {**ctx, "resize": {**(ctx.get("resize") or {}), "flavor": spec.flavor.to_dict()}, "migration": move}
        if dest == source or source is None:
            self._agents.resize_instance(ctx, dest, instance)
            return None
        try:
            vifs = self._rebind(instance_uuid, dest)
        except PortAllocationError as exc:
            self._undo_claim(instance_uuid, record_uuid)
            return f"The ports could not be moved to {dest}: {exc}"
        self._agents.prep_migration(ctx, source, replace(instance, vifs=vifs), dest)
        return None

    def finish(self, ctx: dict[str, Any], host: str, instance_uuid: str, phase: str) -> dict[str, Any]:
        """Record a step an agent finished (see ``ConductorAPI.finish_resize``); returns source and dest."""
        mig = migration_consumer(instance_uuid)
        followups: list[tuple[str, str]] = []  # (what, host) to do once the transaction is committed
        if phase == "failed":  # before the state changes, so whoever sees the new state also sees why
            reason = (ctx.get("resize") or {}).get("error") or "the move to another host failed"
            self._fault(instance_uuid, host, f"Migration failed: {reason}")
        with self._db.session() as session:
            inst = session.get(Instance, instance_uuid)
            record = latest_migration(session, instance_uuid, RESIZE_TYPES)
            if record is not None and record.dest_compute:
                source, dest = record.source_compute, record.dest_compute
            else:  # a move recorded before migrations were
                source = _provider_host(session, claims.consumer_providers(session, mig)) or (
                    inst.host if inst else None
                )
                dest = _provider_host(session, claims.consumer_providers(session, instance_uuid)) or host
            if inst is None or inst.deleted:
                return {"source": source, "dest": dest}
            cross = bool(source and dest and source != dest)
            status = _finish_phase(session, inst, phase, source, dest, cross, ctx)
            if phase in ("reverted", "failed") and cross:
                followups += [("ports", source or ""), ("revert", source or "")]
                if phase == "reverted":
                    followups.append(("cleanup", dest))
            elif phase == "confirmed" and cross:
                followups.append(("cleanup", source or ""))
            if record is not None and status and not (record.status == "error" and phase == "revert_finished"):
                record.status = status
            vifs = list(inst.network_info or [])
            power_on = _power_on_after_revert(inst, phase, ctx)
        self._notify(instance_uuid)
        self._followups(ctx, instance_uuid, followups, vifs, power_on)
        return {"source": source, "dest": dest}

    def _followups(
        self,
        ctx: dict[str, Any],
        instance_uuid: str,
        followups: list[tuple[str, str]],
        vifs: list[dict[str, Any]],
        power_on: bool,
    ) -> None:
        for what, host in followups:
            if what == "cleanup":
                self._agents.cleanup_instance(ctx, host, instance_uuid, vifs)
            elif what == "ports":
                try:
                    self._rebind(instance_uuid, host)
                except PortAllocationError as exc:  # the source's agent plugs what it has; the fault tells
                    LOG.warning("ports of %s could not be moved back to %s: %s", instance_uuid, host, exc)
            elif what == "revert":
                spec = self._revert_spec(instance_uuid)
                if spec is not None:
                    self._agents.finish_revert_resize(ctx, host, spec, power_on)

    def _revert_spec(self, instance_uuid: str) -> InstanceSpec | None:
        """What the source restarts: the old flavor and the ports as they are bound now."""
        with self._db.reader() as session:
            inst = session.get(Instance, instance_uuid)
            if inst is None or inst.deleted:
                return None
            old = inst.old_flavor if inst.vm_state == "resized" and inst.old_flavor else inst.flavor
        spec = self._instance_spec(instance_uuid, None)
        return replace(spec, flavor=FlavorSpec.from_dict(old)) if spec is not None else None

    def _on_resize_claim(self, session: Session, instance_uuid: str, host: HostState) -> None:
        inst = session.get(Instance, instance_uuid)
        if inst is None or inst.deleted:
            raise ClaimAborted(instance_uuid)
        inst.task_state = "resize_migrating"

    def _undo_claim(self, instance_uuid: str, record_uuid: str) -> None:
        with self._db.session() as session:
            claims.free(session, instance_uuid)
            claims.move(session, migration_consumer(instance_uuid), instance_uuid)
            migration_by_uuid(session, record_uuid).status = "error"

    # evacuation

    def evacuate(self, ctx: dict[str, Any], instance_uuid: str, spec: RequestSpec, migration_uuid: str) -> None:
        """Claim a host (never the failed one) and have it rebuild the server from its image."""
        sel = self._scheduler.select_destinations(spec, on_claim=self._on_evacuate_claim)[0]
        if sel.error == "claim aborted":
            self._set_status(migration_uuid, "error")
            return
        if sel.error is not None or sel.host is None:
            self._evacuation_failed(instance_uuid, migration_uuid, None, f"Evacuation failed: {sel.error}", "error")
            return
        dest = sel.host
        with self._db.session() as session:
            record = migration_by_uuid(session, migration_uuid)
            record.dest_compute = record.dest_node = dest
            record.dest_host = session.scalar(sa.select(ResourceProvider.host_ip).where(ResourceProvider.host == dest))
            record.status = "pre-migrating"
        instance = self._instance_spec(instance_uuid, spec)
        if instance is None:
            return
        try:
            vifs = self._rebind(instance_uuid, dest)
        except PortAllocationError as exc:
            self._evacuation_failed(instance_uuid, migration_uuid, dest, f"Evacuation failed: {exc}", "error")
            return
        evacuate = {**(ctx.get("evacuate") or {}), "migration_uuid": migration_uuid}
        self._agents.evacuate_instance({**ctx, "evacuate": evacuate}, dest, replace(instance, vifs=vifs))

    def evacuation_finished(
        self, ctx: dict[str, Any], host: str, instance_uuid: str, error: str | None, power_state: int
    ) -> None:
        """The destination's answer: the server now lives on ``host``, or the evacuation failed there."""
        migration_uuid = str((ctx.get("evacuate") or {}).get("migration_uuid") or "")
        if error is not None:
            self._evacuation_failed(instance_uuid, migration_uuid, host, f"Evacuation failed: {error}", "failed")
            return
        with self._db.session() as session:
            dest_providers = set(session.scalars(sa.select(ResourceProvider.uuid).where(ResourceProvider.host == host)))
            for provider in claims.consumer_providers(session, instance_uuid):
                if provider not in dest_providers:
                    claims.free(session, instance_uuid, provider)  # the failed host's share
            if migration_uuid:
                migration_by_uuid(session, migration_uuid).status = "done"
            inst = session.get(Instance, instance_uuid)
            if inst is not None and not inst.deleted:
                inst.host = inst.node = host
                inst.power_state, inst.task_state = power_state, None
                inst.vm_state = "stopped" if power_state == messages.SHUTDOWN else "active"
        self._notify(instance_uuid)

    def evacuated_instances(self, host: str) -> list[dict[str, Any]]:
        with self._db.reader() as session:
            rows = session.execute(
                sa.select(Migration.uuid, Migration.instance_uuid, Instance.network_info)
                .join(Instance, Instance.uuid == Migration.instance_uuid)
                .where(
                    Migration.migration_type == EVACUATION,
                    Migration.source_compute == host,
                    Migration.status.in_(EVACUATION_PENDING),
                )
            ).all()
        return [{"migration_uuid": m, "instance_uuid": i, "vifs": list(n or [])} for m, i, n in rows]

    def evacuations_cleaned(self, host: str, migration_uuids: list[str]) -> None:
        with self._db.session() as session:
            session.execute(
                sa.update(Migration)
                .where(Migration.uuid.in_(migration_uuids), Migration.source_compute == host)
                .values(status="completed")
            )

    def _on_evacuate_claim(self, session: Session, instance_uuid: str, host: HostState) -> None:
        inst = session.get(Instance, instance_uuid)
        if inst is None or inst.deleted or inst.vm_state == "deleted":
            raise ClaimAborted(instance_uuid)

    def _evacuation_failed(
        self, instance_uuid: str, migration_uuid: str, dest: str | None, message: str, status: str
    ) -> None:
        """The server stays on its failed host, in ERROR (as Nova), without the destination's claim.

        The fault is written first so that whoever sees ERROR also sees why.
        """
        self._fault(instance_uuid, dest, message)
        with self._db.session() as session:
            if dest is not None:
                for provider in session.scalars(sa.select(ResourceProvider.uuid).where(ResourceProvider.host == dest)):
                    claims.free(session, instance_uuid, provider)
            if migration_uuid:
                migration_by_uuid(session, migration_uuid).status = status
            inst = session.get(Instance, instance_uuid)
            if inst is not None and not inst.deleted:
                inst.vm_state, inst.task_state = "error", None
        self._notify(instance_uuid)

    def _set_status(self, migration_uuid: str, status: str) -> None:
        with self._db.session() as session:
            migration_by_uuid(session, migration_uuid).status = status

    # ports

    def _rebind(self, instance_uuid: str, host: str) -> list[messages.VifSpec]:
        """Bind the server's ports to ``host``; returns the VIFs to plug there. Raises PortAllocationError."""
        return vif_specs(self._rebind_ports(instance_uuid, host)[1])


def _provider_host(session: Session, provider_uuids: list[str]) -> str | None:
    if not provider_uuids:
        return None
    return session.scalar(sa.select(ResourceProvider.host).where(ResourceProvider.uuid == provider_uuids[0]))


def _power_on_after_revert(inst: Instance, phase: str, ctx: dict[str, Any]) -> bool:
    """Whether the source starts its guest again: not if the server was stopped before the move."""
    if phase == "failed":
        return (ctx.get("resize") or {}).get("old_vm_state") != "stopped"
    return inst.power_state != messages.SHUTDOWN


def _finish_phase(
    session: Session, inst: Instance, phase: str, source: str | None, dest: str, cross: bool, ctx: dict[str, Any]
) -> str | None:
    """Apply one step to the instance and the allocations; returns the migration's new status (None: keep)."""
    mig = migration_consumer(inst.uuid)
    if phase == "resized":
        _apply_resized(inst, dest, ctx)
        return "finished"
    if phase == "confirmed":
        claims.free(session, mig)
        inst.old_flavor, inst.task_state = None, None
        inst.vm_state = "stopped" if inst.power_state == messages.SHUTDOWN else "active"
        return "confirmed"
    if phase in ("reverted", "failed"):
        claims.free(session, inst.uuid)
        claims.move(session, mig, inst.uuid)
        inst.host = inst.node = source
        if not cross:
            _apply_reverted(inst)
            return "reverted"
        return "error" if phase == "failed" else None  # the source finishes it (revert_finished)
    if phase == "revert_finished":
        _apply_reverted(inst)
        return "reverted"
    raise ValueError(f"unknown resize phase {phase!r}")


def _apply_resized(inst: Instance, dest: str, ctx: dict[str, Any]) -> None:
    new = inst.new_flavor or (ctx.get("resize") or {}).get("flavor")
    if new:
        inst.old_flavor, inst.flavor, inst.new_flavor = inst.flavor, new, None
        inst.vcpus, inst.memory_mb, inst.root_gb = new["vcpus"], new["memory_mb"], new["root_gb"]
    inst.host = inst.node = dest
    # Nova: a server stopped before the resize stays powered off (VERIFY_RESIZE, then SHUTOFF).
    stopped = (ctx.get("resize") or {}).get("old_vm_state") == "stopped"
    inst.vm_state, inst.task_state = "resized", None
    inst.power_state = messages.SHUTDOWN if stopped else messages.RUNNING


def _apply_reverted(inst: Instance) -> None:
    """The old flavor is the flavor again (after VERIFY_RESIZE), or the move never got that far."""
    if inst.vm_state == "resized" and inst.old_flavor:
        inst.flavor = inst.old_flavor
    current = inst.flavor or {}
    inst.vcpus = current.get("vcpus", inst.vcpus)
    inst.memory_mb = current.get("memory_mb", inst.memory_mb)
    inst.root_gb = current.get("root_gb", inst.root_gb)
    inst.old_flavor = inst.new_flavor = None
    inst.task_state = None
    inst.vm_state = "stopped" if inst.power_state == messages.SHUTDOWN else "active"
