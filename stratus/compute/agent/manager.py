"""The agent for one host: serves ``compute.<host>``, drives the virt driver, reports to the conductor.

``ComputeAgentManager`` is the RPC endpoint (its public methods are exactly what
``rpcapi.ComputeAgentAPI`` sends); ``ComputeAgent`` runs it: start-up reconcile, heartbeats,
resource reports and the periodic power-state sync. The agent never touches the database.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from stratus.compute import messages
from stratus.compute.agent.builds import BuildLedger
from stratus.compute.agent.images import ImageSourceFactory
from stratus.compute.agent.reporting import reliably
from stratus.compute.agent.vif_events import VifEventRegistry
from stratus.compute.agent.vifs import NetworkAgent, VifPlugger, VifPlugTimeout
from stratus.compute.conf import AgentConfig
from stratus.compute.messages import InstanceInfo, InstanceSpec, VifSpec
from stratus.compute.rpcapi import AGENT_TOPIC, EVENTS_TOPIC, ComputeAgentAPI, ConductorAPI
from stratus.compute.virt.base import ComputeDriver, InstanceNotFound
from stratus.core.bus import Bus, RpcServer
from stratus.network.client import NetworkAgentClient

LOG = logging.getLogger(__name__)

PRE_LIVE_MIGRATION_TIMEOUT = 600.0
"""Seconds the source waits for the destination to prepare (it may first download the base image)."""

DriverCall = Callable[[ComputeDriver, str, dict[str, Any]], None]

# action -> (driver call, vm_state after, power_state after, action event name)
POWER_ACTIONS: dict[str, tuple[DriverCall, str, int, str]] = {
    "stop": (lambda d, u, p: d.power_off(u, float(p.get("timeout", 60))), "stopped", messages.SHUTDOWN, "stop"),
    "start": (lambda d, u, p: d.power_on(u), "active", messages.RUNNING, "start"),
    "reboot": (lambda d, u, p: d.reboot(u, bool(p.get("hard", False))), "active", messages.RUNNING, "reboot"),
    "pause": (lambda d, u, p: d.pause(u), "paused", messages.PAUSED, "pause"),
    "unpause": (lambda d, u, p: d.unpause(u), "active", messages.RUNNING, "unpause"),
    "suspend": (lambda d, u, p: d.suspend(u), "suspended", messages.SUSPENDED, "suspend"),
    "resume": (lambda d, u, p: d.resume(u), "active", messages.RUNNING, "resume"),
}


class ComputeAgentManager:
    """RPC endpoint of ``compute.<host>``. Calls for one instance run one at a time."""

    def __init__(
        self,
        host: str,
        driver: ComputeDriver,
        conductor: ConductorAPI,
        images: ImageSourceFactory,
        *,
        network_agent: NetworkAgent | None = None,
        vif_plugging_timeout: float = 60.0,
        agents: ComputeAgentAPI | None = None,
    ):
        self._host = host
        self._agents = agents
        self._driver = driver
        self._conductor = conductor
        self._images = images
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.builds = BuildLedger(host, conductor)
        """The builds this process has taken on (the rest of the 'spawning' ones were cut short)."""
        self.vif_events = VifEventRegistry()
        self._vifs = VifPlugger(network_agent, self.vif_events, vif_plugging_timeout) if network_agent else None

    def build_and_run_instance(self, ctx: dict[str, Any], instance: dict[str, Any]) -> None:
        """Plug, spawn, report. The RPC server took the build on before its ack (``builds.accept``: task
        'spawning'), so after a crash of this process the next one knows which builds were cut short
        (``ComputeAgent._recover_interrupted``)."""
        spec = InstanceSpec.from_dict(instance)
        if not self.builds.taken(spec.uuid) and not self.builds.take(spec.uuid):
            return  # called without the RPC server's accept, and no longer ours to run
        try:
            with self._lock(spec.uuid), self._event(ctx, spec.uuid, "compute__do_build_and_run_instance") as ev:
                self._build(ctx, spec, ev)
        finally:
            self.builds.finished(spec.uuid)

    def _build(self, ctx: dict[str, Any], spec: InstanceSpec, ev: _ActionEvent) -> None:
        what = f"{self._host}: reporting the build of {spec.uuid}"
        try:
            self._plug_vifs(spec)
            self._driver.spawn(spec, self._images(ctx))
        except Exception as exc:
            ev.failed(exc)
            LOG.warning("%s: build of %s failed: %s", self._host, spec.uuid, exc)
            self._driver.destroy(spec.uuid)
            self._unplug_vifs(spec.uuid, spec.vifs)
            reason = str(exc) or type(exc).__name__
            # Nova aborts (no reschedule) when the network never plugged the VIFs
            reschedule = not isinstance(exc, VifPlugTimeout)
            reliably(lambda: self._conductor.build_failed(ctx, self._host, spec.uuid, reason, reschedule=reschedule),
                     what=what)  # fmt: skip
            return
        changes = {"vm_state": "active", "task_state": None, "power_state": messages.RUNNING, "launched_at": _utcnow()}
        if not reliably(lambda: self._conductor.instance_update(self._host, spec.uuid, **changes), what=what):
            LOG.info("%s: instance %s was deleted while building; removing its guest", self._host, spec.uuid)
            self._driver.destroy(spec.uuid)
            self._unplug_vifs(spec.uuid, spec.vifs)

    def terminate_instance(
        self, ctx: dict[str, Any], instance_uuid: str, vifs: list[dict[str, Any]] | None = None
    ) -> None:
        with self._lock(instance_uuid), self._event(ctx, instance_uuid, "compute_terminate_instance"):
            self._driver.destroy(instance_uuid)
            self._unplug_vifs(instance_uuid, [_vif(v) for v in vifs or []])
            self._conductor.instance_update(
                self._host, instance_uuid, vm_state="deleted", task_state=None, power_state=messages.NOSTATE
            )
        with self._locks_guard:
            self._locks.pop(instance_uuid, None)

    def power_action(self, ctx: dict[str, Any], instance_uuid: str, action: str, params: dict[str, Any]) -> None:
        call, vm_state, power_state, name = POWER_ACTIONS[action]
        with self._lock(instance_uuid), self._event(ctx, instance_uuid, f"compute_{name}_instance") as ev:
            try:
                call(self._driver, instance_uuid, params or {})
            except Exception as exc:
                ev.failed(exc)
                self._action_failed(instance_uuid, f"{action} failed", exc)
                return
            self._conductor.instance_update(
                self._host, instance_uuid, vm_state=vm_state, task_state=None, power_state=power_state
            )

    def rebuild_instance(self, ctx: dict[str, Any], instance: dict[str, Any]) -> None:
        spec = InstanceSpec.from_dict(instance)
        with self._lock(spec.uuid), self._event(ctx, spec.uuid, "compute_rebuild_instance") as ev:
            try:
                self._driver.rebuild(spec, self._images(ctx))
            except Exception as exc:
                ev.failed(exc)
                self._conductor.instance_fault(self._host, spec.uuid, f"rebuild failed: {exc}", _tb(exc))
                self._conductor.instance_update(self._host, spec.uuid, vm_state="error", task_state=None)
                return
            # Nova: a server rebuilt while stopped is stopped again afterwards.
            if (ctx.get("rebuild") or {}).get("vm_state") == "stopped":
                self._driver.power_off(spec.uuid)
                self._conductor.instance_update(
                    self._host, spec.uuid, vm_state="stopped", task_state=None, power_state=messages.SHUTDOWN
                )
                return
            self._conductor.instance_update(
                self._host, spec.uuid, vm_state="active", task_state=None, power_state=messages.RUNNING
            )

    def resize_instance(self, ctx: dict[str, Any], instance: dict[str, Any]) -> None:
        """Apply the new flavor here (this host is the destination), then VERIFY_RESIZE.

        Arriving from another host (``ctx["migration"]``): plug the VIFs and wait for the network to
        report them up first; a failure then gives the guest back to the source ('failed').
        """
        spec = InstanceSpec.from_dict(instance)
        arriving = _source_of(ctx) not in (None, self._host)
        with self._lock(spec.uuid), self._event(ctx, spec.uuid, "compute_resize_instance") as ev:
            try:
                if arriving:
                    self._plug_vifs(spec)
                disk_source = (ctx.get("resize") or {}).get("disk_source") if arriving else None
                self._driver.resize(spec, self._images(ctx), disk_source=disk_source)
                if (ctx.get("resize") or {}).get("old_vm_state") == "stopped":
                    self._driver.power_off(spec.uuid)  # Nova keeps a stopped server stopped
            except Exception as exc:
                ev.failed(exc)
                if not arriving:
                    self._action_failed(spec.uuid, "resize failed", exc)
                    return
                LOG.warning("%s: move of %s here failed: %s", self._host, spec.uuid, exc)
                self._driver.destroy(spec.uuid)
                self._unplug_vifs(spec.uuid, spec.vifs)
                self._move_failed(ctx, spec.uuid, exc)
                return
            self._conductor.finish_resize(ctx, self._host, spec.uuid, "resized")

    def prep_migration(self, ctx: dict[str, Any], instance: dict[str, Any], dest: str) -> None:
        """The source of a move between hosts: power the guest off (kept for a revert), hand over to ``dest``."""
        spec = InstanceSpec.from_dict(instance)
        with self._lock(spec.uuid), self._event(ctx, spec.uuid, "compute_prep_migration") as ev:
            try:
                self._driver.power_off(spec.uuid)
                # the destination copies the stopped guest's disk from here (else it starts from the image)
                disk_source = self._driver.migration_disk_source(spec.uuid)
                if disk_source:
                    ctx = {**ctx, "resize": {**(ctx.get("resize") or {}), "disk_source": disk_source}}
            except InstanceNotFound:
                LOG.warning(
                    "%s: %s has no guest here to migrate; %s builds it from its image", self._host, spec.uuid, dest
                )
            except Exception as exc:
                ev.failed(exc)
                self._move_failed(ctx, spec.uuid, exc)
                return
        if self._agents is None:
            self._move_failed(ctx, spec.uuid, RuntimeError("this agent cannot reach other hosts"))
            return
        self._agents.resize_instance(ctx, dest, spec)

    def confirm_resize(self, ctx: dict[str, Any], instance_uuid: str) -> None:
        with self._lock(instance_uuid), self._event(ctx, instance_uuid, "compute_confirm_resize"):
            self._driver.confirm_resize(instance_uuid)
            self._conductor.finish_resize(ctx, self._host, instance_uuid, "confirmed")

    def revert_resize(self, ctx: dict[str, Any], instance: dict[str, Any]) -> None:
        """Undo the resize here; after a move between hosts the conductor drops this copy and the source restarts."""
        spec = InstanceSpec.from_dict(instance)
        arrived = _source_of(ctx) not in (None, self._host)
        with self._lock(spec.uuid), self._event(ctx, spec.uuid, "compute_revert_resize") as ev:
            try:
                if not arrived:
                    self._driver.revert_resize(spec)
            except InstanceNotFound:
                pass  # the guest lives on the source host, which the conductor keeps
            except Exception as exc:
                ev.failed(exc)
                self._action_failed(spec.uuid, "revert resize failed", exc)
                return
            self._conductor.finish_resize(ctx, self._host, spec.uuid, "reverted")

    def finish_revert_resize(self, ctx: dict[str, Any], instance: dict[str, Any], power_on: bool) -> None:
        """The source after a revert (or a failed move): plug the VIFs again and start the guest it kept."""
        spec = InstanceSpec.from_dict(instance)
        with self._lock(spec.uuid), self._event(ctx, spec.uuid, "compute_finish_revert_resize") as ev:
            try:
                # no wait for network-vif-plugged: the ports may be up again before a waiter could exist
                self._plug_vifs(replace(spec, vifs=[replace(v, active=True) for v in spec.vifs]))
                if power_on:
                    self._driver.power_on(spec.uuid)
                power = self._driver.get_power_state(spec.uuid)
            except Exception as exc:
                ev.failed(exc)
                self._conductor.instance_fault(self._host, spec.uuid, f"revert failed: {exc}", _tb(exc))
                power = messages.NOSTATE
            self._conductor.instance_update(self._host, spec.uuid, power_state=power)
            self._conductor.finish_resize(ctx, self._host, spec.uuid, "revert_finished")

    def cleanup_instance(
        self, ctx: dict[str, Any], instance_uuid: str, vifs: list[dict[str, Any]] | None = None
    ) -> None:
        """Drop this host's copy of a guest that now lives elsewhere (after a move) and unplug its VIFs here."""
        with self._lock(instance_uuid):
            self._driver.destroy(instance_uuid)
            self._unplug_vifs(instance_uuid, [_vif(v) for v in vifs or []])

    def evacuate_instance(self, ctx: dict[str, Any], instance: dict[str, Any]) -> None:
        """Build here, from its image, a server whose host is down (Nova's rebuild with ``recreate``)."""
        spec = InstanceSpec.from_dict(instance)
        with self._lock(spec.uuid), self._event(ctx, spec.uuid, "compute_rebuild_instance") as ev:
            try:
                self._plug_vifs(spec)
                self._driver.spawn(spec, self._images(ctx))
                if (ctx.get("evacuate") or {}).get("old_vm_state") == "stopped":
                    self._driver.power_off(spec.uuid)  # Nova (before 2.95) keeps a stopped server stopped
                power = self._driver.get_power_state(spec.uuid)
            except Exception as exc:
                ev.failed(exc)
                LOG.warning("%s: evacuation of %s failed: %s", self._host, spec.uuid, exc)
                self._driver.destroy(spec.uuid)
                self._unplug_vifs(spec.uuid, spec.vifs)
                self._conductor.evacuation_finished(ctx, self._host, spec.uuid, str(exc) or type(exc).__name__, 0)
                return
            self._conductor.evacuation_finished(ctx, self._host, spec.uuid, None, power)

    # live migration: the source drives it (as Nova's ``_do_live_migration``), the destination prepares

    def live_migration(self, ctx: dict[str, Any], instance: dict[str, Any], dest: str) -> None:
        """The source: have ``dest`` prepare (disk, VIFs), move the running guest there, tell the conductor.

        On failure the guest still runs here; ``dest`` drops what it prepared.
        """
        spec = InstanceSpec.from_dict(instance)
        with self._lock(spec.uuid), self._event(ctx, spec.uuid, "compute_live_migration") as ev:
            error: str | None = None
            power = messages.NOSTATE
            try:
                power = self._driver.get_power_state(spec.uuid)
                if self._agents is None:
                    raise RuntimeError("this agent cannot reach other hosts")
                try:
                    data = self._agents.pre_live_migration(ctx, dest, spec, timeout=PRE_LIVE_MIGRATION_TIMEOUT)
                except Exception as exc:
                    raise RuntimeError(f"host {dest} could not prepare for the guest: {_remote_text(exc)}") from exc
                self._driver.live_migrate(spec, dest, data)
            except Exception as exc:
                ev.failed(exc)
                error = str(exc) or type(exc).__name__
                LOG.warning("%s: live migration of %s to %s failed: %s", self._host, spec.uuid, dest, error)
                if self._agents is not None:
                    vifs = [v.to_dict() for v in spec.vifs]
                    self._agents.rollback_live_migration_at_destination(ctx, dest, spec.uuid, vifs)
                try:
                    power = self._driver.get_power_state(spec.uuid)
                except InstanceNotFound:
                    power = messages.NOSTATE
            self._conductor.live_migration_finished(ctx, self._host, spec.uuid, error, power)

    def pre_live_migration(self, ctx: dict[str, Any], instance: dict[str, Any]) -> dict[str, Any]:
        """The destination (called by the source): the guest's disk on its base image, its VIFs plugged here.

        The ports stay bound to the source until the move is done, so no ``network-vif-plugged`` is awaited.
        """
        spec = InstanceSpec.from_dict(instance)
        with self._lock(spec.uuid), self._event(ctx, spec.uuid, "compute_pre_live_migration") as ev:
            try:
                self._plug_vifs(replace(spec, vifs=[replace(v, active=True) for v in spec.vifs]))
                return self._driver.pre_live_migration(spec, self._images(ctx))
            except Exception as exc:
                ev.failed(exc)
                self._driver.rollback_live_migration_at_destination(spec.uuid)
                self._unplug_vifs(spec.uuid, spec.vifs)
                raise

    def post_live_migration_at_destination(self, ctx: dict[str, Any], instance: dict[str, Any]) -> None:
        """The destination once the guest runs here (the conductor moved the ports and the instance here)."""
        spec = InstanceSpec.from_dict(instance)
        with self._lock(spec.uuid), self._event(ctx, spec.uuid, "compute_post_live_migration_at_destination"):
            try:
                # again, now that the ports are bound here (idempotent): as Nova's post_live_migration_at_destination
                self._plug_vifs(replace(spec, vifs=[replace(v, active=True) for v in spec.vifs]))
                self._driver.post_live_migration_at_destination(spec)
                power = self._driver.get_power_state(spec.uuid)
            except Exception as exc:
                LOG.warning("%s: recording the migrated guest %s failed: %s", self._host, spec.uuid, exc)
                self._conductor.instance_fault(self._host, spec.uuid, f"post live migration failed: {exc}", _tb(exc))
                power = messages.NOSTATE
            self._conductor.instance_update(self._host, spec.uuid, power_state=power)

    def rollback_live_migration_at_destination(
        self, ctx: dict[str, Any], instance_uuid: str, vifs: list[dict[str, Any]] | None = None
    ) -> None:
        """The destination after a failed move: drop the prepared disk (and any guest), unplug the VIFs."""
        with self._lock(instance_uuid):
            self._driver.rollback_live_migration_at_destination(instance_uuid)
            self._unplug_vifs(instance_uuid, [_vif(v) for v in vifs or []])

    def snapshot_instance(self, ctx: dict[str, Any], instance_uuid: str, image_id: str) -> None:
        with self._lock(instance_uuid), self._event(ctx, instance_uuid, "compute_snapshot_instance") as ev:
            try:
                self._driver.snapshot(instance_uuid, image_id, self._images(ctx))
            except Exception as exc:
                ev.failed(exc)
                self._action_failed(instance_uuid, "snapshot failed", exc)
                return
            self._conductor.instance_update(self._host, instance_uuid, task_state=None)

    def get_console_output(self, ctx: dict[str, Any], instance_uuid: str, length: int | None) -> str:
        return self._driver.get_console_output(instance_uuid, length)

    def external_instance_event(self, ctx: dict[str, Any], events: list[dict[str, Any]]) -> None:
        """Server events from the network service (served on ``compute-events.<host>``, see rpcapi)."""
        self.vif_events.deliver_all(events)

    # helpers

    def _plug_vifs(self, spec: InstanceSpec) -> None:
        if not spec.vifs or not self._driver.plugs_vifs:
            return
        if self._vifs is None:
            raise RuntimeError("this agent has no network agent to plug VIFs with")
        self._vifs.plug_and_wait(spec.uuid, spec.vifs)

    def _unplug_vifs(self, instance_uuid: str, vifs: list[VifSpec]) -> None:
        if vifs and self._driver.plugs_vifs and self._vifs is not None:
            self._vifs.unplug(instance_uuid, vifs)

    def _move_failed(self, ctx: dict[str, Any], instance_uuid: str, exc: Exception) -> None:
        reason = str(exc) or type(exc).__name__
        failed = {**ctx, "resize": {**(ctx.get("resize") or {}), "error": reason}}
        self._conductor.finish_resize(failed, self._host, instance_uuid, "failed")

    def _action_failed(self, instance_uuid: str, what: str, exc: Exception) -> None:
        LOG.warning("%s: %s for %s: %s", self._host, what, instance_uuid, exc)
        self._conductor.instance_fault(self._host, instance_uuid, f"{what}: {exc}", _tb(exc))
        changes: dict[str, Any] = {"task_state": None}
        try:
            changes["power_state"] = self._driver.get_power_state(instance_uuid)
        except InstanceNotFound:
            changes["power_state"] = messages.NOSTATE
        self._conductor.instance_update(self._host, instance_uuid, **changes)

    def _lock(self, instance_uuid: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(instance_uuid, threading.Lock())

    def _event(self, ctx: dict[str, Any], instance_uuid: str, event: str) -> _ActionEvent:
        return _ActionEvent(self._conductor, self._host, str(ctx.get("request_id") or ""), instance_uuid, event)


class _ActionEvent:
    """Starts an instance action event on enter and finishes it (Success/Error) on exit."""

    def __init__(self, conductor: ConductorAPI, host: str, request_id: str, instance_uuid: str, event: str):
        self._args = (host, request_id, instance_uuid, event)
        self._conductor = conductor
        self._error = False

    def failed(self, exc: Exception) -> None:
        self._error = True

    def __enter__(self) -> _ActionEvent:
        self._record(None)
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._record("Error" if self._error or exc_type else "Success")

    def _record(self, result: str | None) -> None:
        """Best effort: an action's event record is not worth failing (or stranding) the action for."""
        if not self._args[1]:
            return
        try:
            self._conductor.action_event(*self._args, result)
        except Exception as exc:
            LOG.warning("could not record event %s of %s: %s", self._args[3], self._args[2], exc)


def _remote_text(exc: Exception) -> str:
    """What went wrong on another host: the remote exception's own message when there is one."""
    return str(getattr(exc, "message", "") or exc) or type(exc).__name__


def _source_of(ctx: dict[str, Any]) -> str | None:
    """The source host of the move this message belongs to (None: not a move between hosts)."""
    return (ctx.get("migration") or {}).get("source_compute")


def _vif(entry: dict[str, Any]) -> VifSpec:
    """A VifSpec from a ``network_info`` entry (what terminate gets)."""
    return VifSpec(
        port_id=entry["port_id"],
        network_id=entry.get("network_id", ""),
        mac_address=entry.get("mac_address", ""),
        devname=entry.get("devname", ""),
    )


class _EventsEndpoint:
    """What ``compute-events.<host>`` exposes: only event delivery (never blocked by builds)."""

    def __init__(self, manager: ComputeAgentManager):
        self._manager = manager

    def external_instance_event(self, ctx: dict[str, Any], events: list[dict[str, Any]]) -> None:
        self._manager.external_instance_event(ctx, events)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)  # naive UTC, as the database keeps times


def _tb(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


class ComputeAgent:
    """Runs one host's agent: serve, report, heartbeat, sync; ``stop()`` returns promptly."""

    def __init__(self, host: str, driver: ComputeDriver, bus: Bus, conf: AgentConfig, images: ImageSourceFactory):
        self.host = host
        self.driver = driver
        self._bus = bus
        self._conf = conf
        self._conductor = ConductorAPI(bus)
        self.manager = ComputeAgentManager(
            host,
            driver,
            self._conductor,
            images,
            network_agent=NetworkAgentClient(bus, host),
            vif_plugging_timeout=conf.vif_plugging_timeout,
            agents=ComputeAgentAPI(bus),
        )
        self._server: RpcServer | None = None
        self._events_server: RpcServer | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._registered = False

    def start(self) -> None:
        self.driver.init_host(self.host)
        self.driver.set_event_listener(self._on_lifecycle_event)
        self._server = self._bus.serve(
            AGENT_TOPIC,
            self.manager,
            server=self.host,
            workers=self._conf.agent_workers,
            accept=self.manager.builds.accept,
        )
        self._events_server = self._bus.serve(EVENTS_TOPIC, _EventsEndpoint(self.manager), server=self.host, workers=1)
        self._registered = self._register()
        self._thread = threading.Thread(target=self._periodic, name=f"compute-agent-{self.host}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.driver.set_event_listener(None)
        # Stop the driver's own event handling too: guests stopped after this (the all-in-one stops its
        # libvirtd next) must keep their "running" intent, so the next start boots them again.
        close = getattr(self.driver, "close", None)
        if close is not None:
            close()
        if self._thread is not None:
            self._thread.join()
        if self._server is not None:
            self._server.stop()
        if self._events_server is not None:
            self._events_server.stop()

    def _register(self) -> bool:
        """Report resources, heartbeat and reconcile; False (retried by the periodic loop) if the conductor is away."""
        try:
            evacuated = self._destroy_evacuated()  # before reporting in: the host must not look up with them
            self._conductor.report_resources(self.host, self.driver.get_host_resources())
            self._conductor.service_heartbeat(self.host, self._conf.availability_zone)
            self._recover_interrupted(skip=evacuated)
            self.reconcile()
        except Exception:  # e.g. a compute node started before the controller: keep serving, retry
            LOG.warning("%s: could not register with the conductor yet; will retry", self.host, exc_info=True)
            return False
        return True

    def reconcile(self) -> None:
        """Compare the driver's guests with the database's view: log orphans, report power states."""
        guests = self.driver.list_instances()
        known = {row["uuid"] for row in self._conductor.host_instances(self.host)}
        for orphan in sorted(g.uuid for g in guests if g.uuid not in known):
            LOG.warning(
                "%s: guest %s runs here but no live instance is recorded on this host (orphan)", self.host, orphan
            )
        self._conductor.sync_power_states(self.host, guests)

    def _destroy_evacuated(self) -> set[str]:
        """Destroy the guests of servers evacuated away while this host was down (Nova's
        ``_destroy_evacuated_instances``): they run elsewhere now. Returns their uuids."""
        evacuated = self._conductor.evacuated_instances(self.host)
        local = {g.uuid for g in self.driver.list_instances()}
        for entry in evacuated:
            uuid = entry["instance_uuid"]
            if uuid in local:
                LOG.info("%s: %s was evacuated to another host while this one was down; destroying it", self.host, uuid)
                self.manager.cleanup_instance({}, uuid, entry.get("vifs") or [])
        if evacuated:
            self._conductor.evacuations_cleaned(self.host, [e["migration_uuid"] for e in evacuated])
        return {e["instance_uuid"] for e in evacuated}

    def _recover_interrupted(self, skip: frozenset[str] | set[str] = frozenset()) -> None:
        """At start-up only: work a previous agent process left half done never stays stuck.

        A build whose guest runs ends ACTIVE; any other build ends ERROR with a fault (its leftovers
        removed). Other interrupted tasks are cleared; the reconcile then reports real power states.
        ``skip``: servers being evacuated away (their task belongs to the destination).
        """
        running = {g.uuid for g in self.driver.list_instances() if g.power_state == messages.RUNNING}
        rows = self._conductor.host_instances(self.host)
        ours = self.manager.builds.current()  # read after the rows: a build taken on meanwhile is in it
        for row in rows:
            uuid = row["uuid"]
            if uuid in skip or uuid in ours:
                continue
            if row["vm_state"] == "building" and row["task_state"] != "spawning":
                continue  # not started yet: its build request waits on this host's queue
            if row["vm_state"] == "building" and uuid in running:
                LOG.info("%s: build of %s was interrupted after its guest started; marking it active", self.host, uuid)
                self._conductor.instance_update(
                    self.host, uuid, vm_state="active", task_state=None, power_state=messages.RUNNING,
                    launched_at=_utcnow(),
                )  # fmt: skip
            elif row["vm_state"] == "building":
                LOG.warning("%s: build of %s was interrupted by an agent restart; marking it error", self.host, uuid)
                self.driver.destroy(uuid)
                reason = f"Build of instance {uuid} was interrupted: the compute agent on {self.host} restarted"
                self._conductor.build_failed({}, self.host, uuid, reason, reschedule=False)
            elif row["task_state"] is not None:
                LOG.info("%s: clearing task %s of %s left by an agent restart", self.host, row["task_state"], uuid)
                self._conductor.instance_update(self.host, uuid, task_state=None)

    def _on_lifecycle_event(self, info: InstanceInfo) -> None:
        try:
            self._conductor.power_state_changed(self.host, info)
        except Exception:  # the periodic sync catches what an event misses
            LOG.warning("%s: could not report power state of %s", self.host, info.uuid, exc_info=True)

    def _heartbeat(self) -> None:
        if not self._registered:
            self._registered = self._register()
            return
        self._conductor.service_heartbeat(self.host, self._conf.availability_zone)

    def _periodic(self) -> None:
        conf = self._conf
        tasks: list[tuple[float, Callable[[], None]]] = [
            (conf.heartbeat_interval, self._heartbeat),
            (
                conf.resource_report_interval,
                lambda: self._conductor.report_resources(self.host, self.driver.get_host_resources()),
            ),
            (conf.sync_power_state_interval, self.reconcile),
        ]
        due = [time.monotonic() + interval for interval, _ in tasks]
        while not self._stop.wait(max(0.0, min(due) - time.monotonic())):
            now = time.monotonic()
            for i, (interval, task) in enumerate(tasks):
                if now < due[i]:
                    continue
                due[i] = now + interval
                try:
                    task()
                except Exception:  # keep the loop alive through bus or conductor outages
                    LOG.warning("%s: periodic task failed", self.host, exc_info=True)
