"""The conductor: served on ``compute-conductor``, it schedules builds and resizes and writes the
database on behalf of hosts (hosts never touch it).

Its public methods are exactly what ``rpcapi.ConductorAPI`` sends. A build's scheduling state
(request spec, alternates, failures so far) travels with the build in ``ctx["build"]`` and comes
back with ``build_failed``, as Nova's ``filter_properties['retry']`` does, so any conductor can
reschedule.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from stratus.compute import messages
from stratus.compute.conf import SchedulerConfig
from stratus.compute.live_moves import LiveMigrationTasks
from stratus.compute.messages import FlavorSpec, HostResources, InstanceSpec, RequestSpec
from stratus.compute.models import (
    ComputeService,
    Instance,
    InstanceAction,
    InstanceActionEvent,
    InstanceFault,
    InstanceMetadata,
    ServerGroupMember,
)
from stratus.compute.move_tasks import MoveDeps
from stratus.compute.moves import MoveTasks, migration_consumer
from stratus.compute.ports import InstancePorts, PortAllocationError, vif_specs
from stratus.compute.rpcapi import ComputeAgentAPI
from stratus.compute.scheduler import claims
from stratus.compute.scheduler.filters import HostState
from stratus.compute.scheduler.manager import AGENT_BINARY, ClaimAborted, SchedulerManager, Selection
from stratus.compute.zones import aggregate_zone
from stratus.core.bus import Bus
from stratus.core.db import Database, retry_on_outage, utcnow

LOG = logging.getLogger(__name__)

FAULT_MESSAGE_MAX = 255
UPDATABLE = frozenset(
    {
        "vm_state",
        "task_state",
        "power_state",
        "launched_at",
        "terminated_at",
        "progress",
        "host",
        "node",
        "hostname",
        "network_info",
    }
)
STABLE_VM_STATES = frozenset({"active", "stopped", "paused", "suspended", "resized"})
__all__ = ["ConductorManager", "migration_consumer"]


class ConductorManager:
    """RPC endpoint of ``compute-conductor``. Every public method is callable over the bus."""

    def __init__(
        self,
        db: Database,
        bus: Bus,
        conf: SchedulerConfig,
        *,
        scheduler: SchedulerManager | None = None,
        ports: InstancePorts | None = None,
    ):
        self._db = db
        self._ports = ports
        self._bus = bus
        self._conf = conf
        self._ratios = claims.AllocationRatios(
            cpu=conf.cpu_allocation_ratio,
            ram=conf.ram_allocation_ratio,
            disk=conf.disk_allocation_ratio,
            reserved_cpus=conf.reserved_host_cpus,
            reserved_memory_mb=conf.reserved_host_memory_mb,
            reserved_disk_gb=conf.reserved_host_disk_gb,
        )
        self._scheduler = scheduler or SchedulerManager(db, conf)
        self._agents = ComputeAgentAPI(bus)
        self._claimed: dict[str, InstanceSpec] = {}
        self._claimed_lock = threading.Lock()
        deps = MoveDeps(
            db,
            self._scheduler,
            self._agents,
            ports,
            instance_spec=self._instance_spec,
            fault=lambda uuid, host, message: self._fault(uuid, host, message),
            notify=self._notify,
        )
        self._moves = MoveTasks(deps)
        self._live = LiveMigrationTasks(deps)

    # from the API

    def build_instances(self, ctx: dict[str, Any], request_spec: dict[str, Any]) -> None:
        """Claim a host for each instance and cast the build to it; instances that fit nowhere go to ERROR."""
        spec = RequestSpec.from_dict(request_spec)
        try:
            selections = self._scheduler.select_destinations(spec, on_claim=self._on_build_claim)
        except Exception as exc:  # e.g. the database stayed away: no instance of the request may stay in BUILD
            LOG.exception("could not schedule the build of %s", ", ".join(spec.instance_uuids))
            for uuid in spec.instance_uuids:
                self._free_claim(uuid, unplace=True)
                self._error(uuid, f"Build could not be scheduled: {exc}", None)
            return
        for sel in selections:
            try:
                self._dispatch(ctx, spec, sel, failures=[])
            except Exception as exc:  # one instance's trouble must not strand the others in BUILD
                LOG.exception("could not dispatch the build of %s", sel.instance_uuid)
                self._free_claim(sel.instance_uuid)
                self._error(sel.instance_uuid, f"Build could not be dispatched: {exc}", sel.host)

    def resize_instance(self, ctx: dict[str, Any], instance_uuid: str, request_spec: dict[str, Any]) -> None:
        """Claim the new flavor (old allocations move to the migration consumer) and start the resize.

        When no host fits, the server stays as it was with a fault saying why.
        """
        spec = replace(RequestSpec.from_dict(request_spec), instance_uuids=[instance_uuid])
        reason = self._moves.start(ctx, instance_uuid, spec, "resize")
        if reason is not None:
            self._fault(instance_uuid, None, reason, code=400)
            self._resize_not_started(instance_uuid)

    def migrate_server(self, ctx: dict[str, Any], instance_uuid: str, request_spec: dict[str, Any]) -> str | None:
        """Cold migration (a resize to the same flavor on another host); returns why not, None once started."""
        spec = replace(RequestSpec.from_dict(request_spec), instance_uuids=[instance_uuid])
        reason = self._moves.start(ctx, instance_uuid, spec, "migration")
        if reason is not None:
            self._resize_not_started(instance_uuid)
        return reason

    def evacuate_instance(
        self, ctx: dict[str, Any], instance_uuid: str, request_spec: dict[str, Any], migration_uuid: str
    ) -> None:
        """Rebuild on another host a server whose host is down (see ``moves``)."""
        spec = replace(RequestSpec.from_dict(request_spec), instance_uuids=[instance_uuid])
        self._moves.evacuate(ctx, instance_uuid, spec, migration_uuid)

    def live_migrate_instance(
        self, ctx: dict[str, Any], instance_uuid: str, request_spec: dict[str, Any], block_migration: bool
    ) -> str | None:
        """Live migration (see ``live_moves``): None once the source has it, else why not (the task is reset)."""
        spec = replace(RequestSpec.from_dict(request_spec), instance_uuids=[instance_uuid])
        reason = self._live.start(ctx, instance_uuid, spec, bool(block_migration))
        if reason is not None:
            self._update(instance_uuid, {"task_state": None})
        return reason

    # from agents

    def service_heartbeat(self, host: str, availability_zone: str) -> None:
        """Record that ``host``'s agent is alive (``last_seen_up``)."""
        self._upsert_service(host, availability_zone)

    def report_resources(self, host: str, resources: dict[str, Any]) -> str:
        """Turn what a host offers into its provider's inventories; returns the provider uuid."""
        res = HostResources.from_dict(resources)
        self._upsert_service(host, None)
        with self._db.session() as session:
            return claims.set_inventory(session, host, res, self._ratios)

    def instance_update(self, host: str, instance_uuid: str, changes: dict[str, Any]) -> bool:
        """Set fields of an instance; vm_state 'deleted' also frees its allocations. False if it is gone."""
        return self._update(instance_uuid, changes)

    def build_started(self, host: str, instance_uuid: str) -> bool:
        """``host`` takes on the build: task 'spawning', only while the server is still building there.

        False if it is gone, no longer building (an agent restart settled it already) or placed elsewhere
        (rescheduled): the agent then drops the request, as Nova's ``expected_task_state`` check does.
        """
        payload = retry_on_outage(lambda: self._start_build(host, instance_uuid), what=f"starting {instance_uuid}")
        if payload is None:
            return False
        self._publish(payload)
        return True

    def _start_build(self, host: str, instance_uuid: str) -> dict[str, Any] | None:
        with self._db.session() as session:
            inst = session.get(Instance, instance_uuid, with_for_update=True)
            if inst is None or inst.deleted or inst.vm_state != "building" or inst.host != host:
                return None
            inst.task_state = "spawning"
            return _payload(inst)

    def instance_fault(self, host: str, instance_uuid: str, message: str, details: str = "", code: int = 500) -> None:
        self._fault(instance_uuid, host, message, details=details, code=code)

    def action_event(self, host: str, request_id: str, instance_uuid: str, event: str, result: str | None) -> None:
        """Start (result None) or finish (Success/Error) an event of the action the API recorded."""
        query = (
            sa.select(InstanceAction)
            .where(InstanceAction.request_id == request_id, InstanceAction.instance_uuid == instance_uuid)
            .order_by(InstanceAction.id.desc())
        )
        with self._db.reader() as session:  # most events have no action (internal work): skip the write lock
            if session.scalars(query).first() is None:
                return
        with self._db.session() as session:
            action = session.scalars(query.with_for_update()).first()  # serialises start vs finish (PostgreSQL)
            if action is None:
                return
            ev = session.scalars(
                sa.select(InstanceActionEvent)
                .where(InstanceActionEvent.action_id == action.id, InstanceActionEvent.event == event)
                .order_by(InstanceActionEvent.id.desc())
            ).first()
            # Start and finish are casts and may be handled out of order: a finish that came first
            # creates the event with start_time == finish_time, and the late start then leaves it be.
            if result is None:
                if ev is None or ev.finish_time is None or ev.start_time != ev.finish_time:
                    session.add(InstanceActionEvent(action_id=action.id, event=event, host=host))
                return
            now = utcnow()
            if ev is None or ev.finish_time is not None:
                ev = InstanceActionEvent(action_id=action.id, event=event, host=host, start_time=now)
                session.add(ev)
            ev.finish_time, ev.result = now, result
            action.finish_time = utcnow()
            if result == "Error":
                action.message = "Error"

    def build_failed(
        self, ctx: dict[str, Any], host: str, instance_uuid: str, reason: str, reschedule: bool = True
    ) -> None:
        """Free the claim on the failed host, then try the alternates (and a fresh selection) up to max_attempts.

        ``reschedule=False``: the build is aborted, the server goes to ERROR with ``reason`` as its fault.
        """
        build = dict(ctx.get("build") or {})
        failures = [*build.get("failures", []), [host, reason]]
        if not self._free_claim(instance_uuid, unplace=True):
            return
        if not reschedule:
            self._error(instance_uuid, reason, host)
            return
        if "request_spec" not in build:
            self._error(instance_uuid, _failures_message(failures), host)
            return
        spec = RequestSpec.from_dict(build["request_spec"])
        if len(failures) >= self._conf.max_attempts:
            self._error(instance_uuid, _failures_message(failures), host)
            return
        tried = {h for h, _ in failures}
        alternates = [a for a in build.get("alternates", []) if a not in tried]
        for i, alt in enumerate(alternates):
            why = self._scheduler.claim_on_host(spec, instance_uuid, alt, self._on_build_claim)
            if why is None:
                self._dispatch(ctx, spec, Selection(instance_uuid, alt, alt, alternates[i + 1 :]), failures)
                return
            if why == "claim aborted":
                return
        retry = replace(spec, instance_uuids=[instance_uuid], ignore_hosts=[*spec.ignore_hosts, *sorted(tried)])
        sel = self._scheduler.select_destinations(retry, on_claim=self._on_build_claim)[0]
        if sel.error is not None and sel.error != "claim aborted":
            sel = replace(sel, error=f"{_failures_message(failures)}; then {sel.error}")
        self._dispatch(ctx, spec, sel, failures)

    def host_instances(self, host: str) -> list[dict[str, Any]]:
        """What the database says runs on ``host`` (uuid, vm_state, task_state, power_state)."""
        with self._db.reader() as session:
            rows = session.execute(
                sa.select(Instance.uuid, Instance.vm_state, Instance.task_state, Instance.power_state).where(
                    Instance.host == host, Instance.deleted.is_(False)
                )
            ).all()
        return [{"uuid": u, "vm_state": v, "task_state": t, "power_state": p} for u, v, t, p in rows]

    def sync_power_states(self, host: str, states: list[dict[str, Any]]) -> None:
        """Reconcile the database with the driver's full list for ``host`` (instances with a task are skipped)."""
        seen = {s["uuid"]: int(s["power_state"]) for s in states}
        with self._db.reader() as session:
            rows = session.scalars(
                sa.select(Instance).where(
                    Instance.host == host, Instance.deleted.is_(False), Instance.task_state.is_(None)
                )
            ).all()
        for inst in rows:
            if inst.vm_state not in STABLE_VM_STATES:
                continue
            power = seen.get(inst.uuid, messages.NOSTATE)
            if power != inst.power_state:
                self._power_changed(inst.uuid, power)

    def power_state_changed(self, host: str, instance_uuid: str, power_state: int) -> None:
        """A driver lifecycle event: the guest changed power state by itself."""
        self._power_changed(instance_uuid, int(power_state))

    def finish_resize(self, ctx: dict[str, Any], host: str, instance_uuid: str, phase: str) -> dict[str, Any]:
        """Record a resize/migration step done by an agent (phases: ``ConductorAPI.finish_resize``).

        Returns ``{"source": host, "dest": host}``; when they differ, the host that no longer needs the
        guest is told to drop it and unplug its VIFs (``cleanup_instance``).
        """
        return self._moves.finish(ctx, host, instance_uuid, phase)

    def evacuation_finished(
        self, ctx: dict[str, Any], host: str, instance_uuid: str, error: str | None, power_state: int
    ) -> None:
        self._moves.evacuation_finished(ctx, host, instance_uuid, error, int(power_state))

    def live_migration_finished(
        self, ctx: dict[str, Any], host: str, instance_uuid: str, error: str | None, power_state: int
    ) -> None:
        self._live.finished(ctx, host, instance_uuid, error, int(power_state))

    def evacuated_instances(self, host: str) -> list[dict[str, Any]]:
        """Servers evacuated away from ``host`` whose stale copy there must go (migration, instance, vifs)."""
        return self._moves.evacuated_instances(host)

    def evacuations_cleaned(self, host: str, migration_uuids: list[str]) -> None:
        self._moves.evacuations_cleaned(host, list(migration_uuids))

    # helpers

    def _dispatch(self, ctx: dict[str, Any], spec: RequestSpec, sel: Selection, failures: list[Any]) -> None:
        if sel.error == "claim aborted":
            return
        if sel.error is not None or sel.host is None:
            self._error(sel.instance_uuid, sel.error or "No valid host", None)
            return
        with self._claimed_lock:
            claimed = self._claimed.pop(sel.instance_uuid, None)
        instance = replace(claimed, image=spec.image) if claimed else self._instance_spec(sel.instance_uuid, spec)
        if instance is None:
            return
        if self._ports is not None:
            instance = self._bind_ports(instance, sel.host)
            if instance is None:
                return
        build = {"request_spec": spec.to_dict(), "alternates": sel.alternates, "failures": failures}
        self._agents.build_and_run_instance({**ctx, "build": build}, sel.host, instance)

    def _bind_ports(self, instance: InstanceSpec, host: str) -> InstanceSpec | None:
        """Create/bind the ports on ``host`` (or move them there on a reschedule); None if the build ends here."""
        assert self._ports is not None

        def read() -> tuple[Any, list[Any], str, str | None, list[Any]] | None:
            with self._db.reader() as session:
                inst = session.get(Instance, instance.uuid)
                if inst is None or inst.deleted:
                    return None
                bound = list(inst.network_info or [])
                groups = list(inst.security_groups or [])
                return inst.requested_networks, bound, inst.project_id, inst.availability_zone, groups

        found = retry_on_outage(read, what=f"reading the ports of {instance.uuid}")
        if found is None:
            return None
        requested, bound, project_id, zone, groups = found
        try:
            if bound:
                info = self._ports.rebind(bound, host)
            else:
                info = self._ports.allocate(
                    instance_uuid=instance.uuid,
                    project_id=project_id,
                    host=host,
                    zone=zone,
                    requested=requested,
                    security_groups=groups,
                )
        except PortAllocationError as exc:
            LOG.warning("ports of %s could not be bound on %s: %s", instance.uuid, host, exc)
            self._free_claim(instance.uuid, unplace=True)
            self._error(instance.uuid, f"Build of instance {instance.uuid} aborted: {exc}", host)
            return None
        if not self._update(instance.uuid, {"network_info": info}):
            self._ports.release(instance.uuid, info)  # deleted meanwhile
            return None
        return replace(instance, vifs=vif_specs(info))

    def _release_ports(self, instance_uuid: str, *, clear: bool) -> None:
        """Delete/unbind the ports of a server that is gone or failed for good."""
        if self._ports is None:
            return
        with self._db.session() as session:
            inst = session.get(Instance, instance_uuid)
            info = list(inst.network_info or []) if inst is not None else []
            if info and clear and inst is not None:
                inst.network_info = []
        if info:
            self._ports.release(instance_uuid, info)

    def _on_build_claim(self, session: Session, instance_uuid: str, host: HostState) -> None:
        inst = session.get(Instance, instance_uuid)
        if inst is None or inst.deleted or inst.vm_state == "deleted":
            raise ClaimAborted(instance_uuid)
        inst.host, inst.node = host.host, host.host  # task_state stays 'scheduling' until the agent starts
        with self._claimed_lock:  # saves _dispatch a read of what this transaction already has
            self._claimed[instance_uuid] = _instance_spec(session, inst, None)

    def _free_claim(self, instance_uuid: str, *, unplace: bool = False) -> bool:
        """Free the build's claim (and with ``unplace``, forget its host); False if the instance is gone."""

        def write() -> bool:
            with self._db.session() as session:
                claims.free(session, instance_uuid)
                inst = session.get(Instance, instance_uuid)
                if inst is None or inst.deleted:
                    return False
                if unplace:
                    inst.host = inst.node = None
                return True

        return retry_on_outage(write, what=f"freeing the claim of {instance_uuid}")

    def _resize_not_started(self, instance_uuid: str) -> None:
        """No host fits the new flavor: the server stays as it was (the API held quota for the larger flavor)."""
        with self._db.session() as session:
            inst = session.get(Instance, instance_uuid)
            if inst is None or inst.deleted:
                return
            current = inst.flavor or {}
            inst.vcpus = current.get("vcpus", inst.vcpus)
            inst.memory_mb = current.get("memory_mb", inst.memory_mb)
            inst.task_state, inst.new_flavor, inst.old_flavor = None, None, None
        self._notify(instance_uuid)

    def _instance_spec(self, instance_uuid: str, spec: RequestSpec | None) -> InstanceSpec | None:
        def read() -> InstanceSpec | None:
            with self._db.reader() as session:
                inst = session.get(Instance, instance_uuid)
                if inst is None or inst.deleted:
                    return None
                return _instance_spec(session, inst, spec)

        return retry_on_outage(read, what=f"reading instance {instance_uuid}")

    def _update(self, instance_uuid: str, changes: dict[str, Any]) -> bool:
        """Apply ``changes`` in one transaction (again after a database restart); False if the instance is gone."""
        payload = retry_on_outage(lambda: self._write(instance_uuid, changes), what=f"updating {instance_uuid}")
        if payload is None:
            return False
        self._publish(payload)
        if changes.get("vm_state") == "deleted":
            self._release_ports(instance_uuid, clear=False)
        return True

    def _write(self, instance_uuid: str, changes: dict[str, Any]) -> dict[str, Any] | None:
        with self._db.session() as session:
            inst = session.get(Instance, instance_uuid)
            if inst is None or inst.deleted:
                return None
            for key, value in changes.items():
                if key not in UPDATABLE:
                    raise ValueError(f"instance field {key!r} cannot be set by an agent")
                setattr(inst, key, _parse_time(value) if key.endswith("_at") else value)
            deleted = changes.get("vm_state") == "deleted"
            if deleted:
                now = utcnow()
                inst.deleted, inst.deleted_at, inst.task_state = True, now, None
                inst.terminated_at = inst.terminated_at or now
                claims.free(session, instance_uuid)
                claims.free(session, migration_consumer(instance_uuid))
                session.execute(sa.delete(ServerGroupMember).where(ServerGroupMember.instance_uuid == instance_uuid))
            return _payload(inst)

    def _power_changed(self, instance_uuid: str, power: int) -> None:
        with self._db.session() as session:
            inst = session.get(Instance, instance_uuid)
            if inst is None or inst.deleted or inst.task_state is not None:
                return  # an action in flight owns the state; the next sync catches up
            inst.power_state = power
            if inst.vm_state == "active" and power in (messages.SHUTDOWN, messages.CRASHED):
                inst.vm_state = "stopped"  # as Nova's sync does for a guest that stopped by itself
        self._notify(instance_uuid)

    def _error(self, instance_uuid: str, message: str, host: str | None) -> None:
        """A build failed for good: fault, ERROR, and its ports are released (as Nova deallocates)."""
        self._fault(instance_uuid, host, message, code=500)
        self._update(instance_uuid, {"vm_state": "error", "task_state": None})
        self._release_ports(instance_uuid, clear=True)

    def _fault(self, instance_uuid: str, host: str | None, message: str, *, details: str = "", code: int = 500) -> None:
        short = message if len(message) <= FAULT_MESSAGE_MAX else message[: FAULT_MESSAGE_MAX - 3] + "..."

        def write() -> None:
            with self._db.session() as session:
                if session.get(Instance, instance_uuid) is None:
                    return
                session.add(
                    InstanceFault(
                        instance_uuid=instance_uuid, code=code, message=short, details=details or message, host=host
                    )
                )

        retry_on_outage(write, what=f"recording the fault of {instance_uuid}")

    def _upsert_service(self, host: str, availability_zone: str | None) -> None:
        for attempt in range(2):  # two agents' first reports can race on the unique (host, binary)
            try:
                with self._db.session() as session:
                    svc = session.scalars(
                        sa.select(ComputeService).where(
                            ComputeService.host == host, ComputeService.binary == AGENT_BINARY
                        )
                    ).one_or_none()
                    if svc is None:
                        svc = ComputeService(host=host, binary=AGENT_BINARY, topic="compute")
                        session.add(svc)
                    if availability_zone:
                        svc.availability_zone = aggregate_zone(session, host) or availability_zone
                    svc.last_seen_up = svc.updated_at = utcnow()
                return
            except IntegrityError:
                if attempt:
                    raise

    def _notify(self, instance_uuid: str) -> None:
        with self._db.reader() as session:
            inst = session.get(Instance, instance_uuid)
            if inst is None:
                return
            payload = _payload(inst)
        self._publish(payload)

    def _publish(self, payload: dict[str, Any]) -> None:
        try:
            self._bus.notify("compute.instance.update", payload, publisher="compute-conductor")
        except Exception:  # a notification is best effort; the database is the truth
            LOG.warning("could not publish compute.instance.update for %s", payload["instance_id"], exc_info=True)


def _failures_message(failures: list[Any]) -> str:
    noun = "host" if len(failures) == 1 else "hosts"
    return f"Build failed on {len(failures)} {noun}: " + "; ".join(f"{h}: {r}" for h, r in failures)


def _parse_time(value: Any) -> Any:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _instance_spec(session: Session, inst: Instance, spec: RequestSpec | None) -> InstanceSpec:
    """What the agent gets to build ``inst`` (the image comes from the request spec)."""
    meta_query = sa.select(InstanceMetadata.key, InstanceMetadata.value).where(
        InstanceMetadata.instance_uuid == inst.uuid
    )
    metadata = dict(session.execute(meta_query).tuples().all())
    flavor = FlavorSpec.from_dict(inst.flavor) if inst.flavor or spec is None else spec.flavor
    return InstanceSpec(
        uuid=inst.uuid,
        name=inst.display_name,
        hostname=inst.hostname,
        project_id=inst.project_id,
        user_id=inst.user_id,
        flavor=flavor,
        image=spec.image if spec else None,
        user_data=inst.user_data,
        key_data=inst.key_data,
        metadata=metadata,
        vifs=vif_specs(inst.network_info or []),
        availability_zone=inst.availability_zone,
    )


def _payload(inst: Instance) -> dict[str, Any]:
    """The ``compute.instance.update`` notification body."""
    return {
        "instance_id": inst.uuid,
        "vm_state": inst.vm_state,
        "task_state": inst.task_state,
        "power_state": inst.power_state,
        "host": inst.host,
        "deleted": inst.deleted,
    }
