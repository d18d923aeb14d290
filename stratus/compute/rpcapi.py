"""Client side of compute's bus topics: what the API and conductor send, and to whom.

Topics: ``compute-conductor`` (controller: scheduling, DB writes on behalf of hosts) and
``compute.<host>`` (the agent on that host). Every message carries the request context as
``ctx`` (user, project, roles, auth token, request id) so the receiver can call other APIs
(e.g. download an image) as the user, as Nova passes its RequestContext.
"""

from __future__ import annotations

from typing import Any

from stratus.compute.messages import HostResources, InstanceInfo, InstanceSpec, RequestSpec
from stratus.core.bus import Bus

CONDUCTOR_TOPIC = "compute-conductor"
AGENT_TOPIC = "compute"
EVENTS_TOPIC = "compute-events"
"""Server events for the agent of one host (``compute-events.<host>``): served apart from ``compute.<host>``
so a build that waits for ``network-vif-plugged`` never holds up the event it waits for."""


class ConductorAPI:
    """Calls to the conductor (on the controller)."""

    def __init__(self, bus: Bus):
        self._bus = bus

    # from the API
    def build_instances(self, ctx: dict[str, Any], request_spec: RequestSpec) -> None:
        self._bus.cast(CONDUCTOR_TOPIC, "build_instances", ctx=ctx, request_spec=request_spec.to_dict())

    def resize_instance(self, ctx: dict[str, Any], instance_uuid: str, request_spec: RequestSpec) -> None:
        self._bus.cast(
            CONDUCTOR_TOPIC,
            "resize_instance",
            ctx=ctx,
            instance_uuid=instance_uuid,
            request_spec=request_spec.to_dict(),
        )

    def migrate_server(self, ctx: dict[str, Any], instance_uuid: str, request_spec: RequestSpec) -> str | None:
        """Cold-migrate (a call, as Nova's ``migrate_server``): None once a host is claimed, else why not."""
        return self._bus.call(  # type: ignore[no-any-return]
            CONDUCTOR_TOPIC,
            "migrate_server",
            ctx=ctx,
            instance_uuid=instance_uuid,
            request_spec=request_spec.to_dict(),
        )

    def evacuate_instance(
        self, ctx: dict[str, Any], instance_uuid: str, request_spec: RequestSpec, migration_uuid: str
    ) -> None:
        """Rebuild a server whose host is down on another host (the API recorded the migration)."""
        self._bus.cast(
            CONDUCTOR_TOPIC,
            "evacuate_instance",
            ctx=ctx,
            instance_uuid=instance_uuid,
            request_spec=request_spec.to_dict(),
            migration_uuid=migration_uuid,
        )

    def live_migrate_instance(
        self, ctx: dict[str, Any], instance_uuid: str, request_spec: RequestSpec, block_migration: bool
    ) -> str | None:
        """Live-migrate (a call for the scheduling, as Nova's ``live_migrate_instance`` pre-checks): None once
        a destination is claimed and the move handed to the source host, else why not (nothing changed)."""
        return self._bus.call(  # type: ignore[no-any-return]
            CONDUCTOR_TOPIC,
            "live_migrate_instance",
            ctx=ctx,
            instance_uuid=instance_uuid,
            request_spec=request_spec.to_dict(),
            block_migration=block_migration,
        )

    # from agents (hosts never touch the database)
    def service_heartbeat(self, host: str, availability_zone: str) -> None:
        self._bus.cast(CONDUCTOR_TOPIC, "service_heartbeat", host=host, availability_zone=availability_zone)

    def report_resources(self, host: str, resources: HostResources) -> None:
        self._bus.call(CONDUCTOR_TOPIC, "report_resources", host=host, resources=resources.to_dict())

    def instance_update(self, host: str, instance_uuid: str, **changes: Any) -> bool:
        """Set fields of an instance (vm_state, task_state, power_state, launched_at, ...); False if it is gone."""
        return bool(
            self._bus.call(CONDUCTOR_TOPIC, "instance_update", host=host, instance_uuid=instance_uuid, changes=changes)
        )

    def build_started(self, host: str, instance_uuid: str) -> bool:
        """``host`` takes on the build ('spawning'); False if the build is no longer this host's to run."""
        return bool(self._bus.call(CONDUCTOR_TOPIC, "build_started", host=host, instance_uuid=instance_uuid))

    def instance_fault(self, host: str, instance_uuid: str, message: str, details: str = "", code: int = 500) -> None:
        self._bus.call(
            CONDUCTOR_TOPIC,
            "instance_fault",
            host=host,
            instance_uuid=instance_uuid,
            message=message,
            details=details,
            code=code,
        )

    def action_event(self, host: str, request_id: str, instance_uuid: str, event: str, result: str | None) -> None:
        """Start (result None) or finish (Success/Error) an instance action event."""
        self._bus.cast(
            CONDUCTOR_TOPIC,
            "action_event",
            host=host,
            request_id=request_id,
            instance_uuid=instance_uuid,
            event=event,
            result=result,
        )

    def build_failed(
        self, ctx: dict[str, Any], host: str, instance_uuid: str, reason: str, *, reschedule: bool = True
    ) -> None:
        """The agent could not build: the conductor frees the claim and tries an alternate host.

        ``reschedule=False`` (e.g. the network never plugged the VIFs): the server goes to ERROR with
        ``reason`` as its fault, and its ports are released.
        """
        self._bus.cast(
            CONDUCTOR_TOPIC,
            "build_failed",
            ctx=ctx,
            host=host,
            instance_uuid=instance_uuid,
            reason=reason,
            reschedule=reschedule,
        )

    def host_instances(self, host: str) -> list[dict[str, Any]]:
        """What the database says runs on ``host`` (uuid, vm_state, task_state, power_state)."""
        return self._bus.call(CONDUCTOR_TOPIC, "host_instances", host=host)  # type: ignore[no-any-return]

    def sync_power_states(self, host: str, states: list[InstanceInfo]) -> None:
        self._bus.cast(CONDUCTOR_TOPIC, "sync_power_states", host=host, states=[s.to_dict() for s in states])

    def power_state_changed(self, host: str, info: InstanceInfo) -> None:
        """A driver lifecycle event: a guest changed power state by itself (crash, shutdown from inside)."""
        self._bus.cast(
            CONDUCTOR_TOPIC, "power_state_changed", host=host, instance_uuid=info.uuid, power_state=info.power_state
        )

    def finish_resize(self, ctx: dict[str, Any], host: str, instance_uuid: str, phase: str) -> dict[str, Any]:
        """An agent finished a step of a resize or cold migration; returns source/dest hosts.

        phase: 'resized' (now VERIFY_RESIZE), 'confirmed', 'reverted' (the destination reverted),
        'revert_finished' (the source restarted its guest after a revert between hosts) or 'failed'
        (the move between hosts failed: the source gets its guest back).
        """
        return self._bus.call(  # type: ignore[no-any-return]
            CONDUCTOR_TOPIC, "finish_resize", ctx=ctx, host=host, instance_uuid=instance_uuid, phase=phase
        )

    def evacuation_finished(
        self, ctx: dict[str, Any], host: str, instance_uuid: str, error: str | None, power_state: int
    ) -> None:
        """The destination rebuilt the evacuated server (``error`` None) or could not (``error`` says why)."""
        self._bus.call(
            CONDUCTOR_TOPIC,
            "evacuation_finished",
            ctx=ctx,
            host=host,
            instance_uuid=instance_uuid,
            error=error,
            power_state=power_state,
        )

    def live_migration_finished(
        self, ctx: dict[str, Any], host: str, instance_uuid: str, error: str | None, power_state: int
    ) -> None:
        """The source's answer: the guest now runs on the destination (``error`` None), or it stayed here."""
        self._bus.call(
            CONDUCTOR_TOPIC,
            "live_migration_finished",
            ctx=ctx,
            host=host,
            instance_uuid=instance_uuid,
            error=error,
            power_state=power_state,
        )

    def evacuated_instances(self, host: str) -> list[dict[str, Any]]:
        """Servers evacuated away from ``host`` whose copy there was not yet dropped (migration, instance, vifs)."""
        return self._bus.call(CONDUCTOR_TOPIC, "evacuated_instances", host=host)  # type: ignore[no-any-return]

    def evacuations_cleaned(self, host: str, migration_uuids: list[str]) -> None:
        """``host`` dropped its copies of these evacuated servers (their migrations become 'completed')."""
        self._bus.call(CONDUCTOR_TOPIC, "evacuations_cleaned", host=host, migration_uuids=migration_uuids)


class ComputeAgentAPI:
    """Calls to the agent on one host (topic ``compute.<host>``)."""

    def __init__(self, bus: Bus):
        self._bus = bus

    def _cast(self, host: str, method: str, **kwargs: Any) -> None:
        self._bus.cast(AGENT_TOPIC, method, server=host, **kwargs)

    def build_and_run_instance(self, ctx: dict[str, Any], host: str, instance: InstanceSpec) -> None:
        self._cast(host, "build_and_run_instance", ctx=ctx, instance=instance.to_dict())

    def terminate_instance(
        self, ctx: dict[str, Any], host: str, instance_uuid: str, vifs: list[dict[str, Any]] | None = None
    ) -> None:
        """Destroy the guest, then unplug ``vifs`` (``network_info`` entries: port_id, devname)."""
        self._cast(host, "terminate_instance", ctx=ctx, instance_uuid=instance_uuid, vifs=vifs or [])

    def external_instance_event(self, ctx: dict[str, Any], host: str, events: list[dict[str, Any]]) -> None:
        """Server events (``os-server-external-events``: name, server_uuid, tag, status) for ``host``'s agent."""
        self._bus.cast(EVENTS_TOPIC, "external_instance_event", server=host, ctx=ctx, events=events)

    def power_action(self, ctx: dict[str, Any], host: str, instance_uuid: str, action: str, **params: Any) -> None:
        """action: stop start reboot pause unpause suspend resume (reboot takes hard=bool)."""
        self._cast(host, "power_action", ctx=ctx, instance_uuid=instance_uuid, action=action, params=params)

    def rebuild_instance(self, ctx: dict[str, Any], host: str, instance: InstanceSpec) -> None:
        self._cast(host, "rebuild_instance", ctx=ctx, instance=instance.to_dict())

    def resize_instance(self, ctx: dict[str, Any], host: str, instance: InstanceSpec) -> None:
        """Resize to ``instance.flavor`` (cold; the agent ends in VERIFY_RESIZE)."""
        self._cast(host, "resize_instance", ctx=ctx, instance=instance.to_dict())

    def confirm_resize(self, ctx: dict[str, Any], host: str, instance_uuid: str) -> None:
        self._cast(host, "confirm_resize", ctx=ctx, instance_uuid=instance_uuid)

    def revert_resize(self, ctx: dict[str, Any], host: str, instance: InstanceSpec) -> None:
        self._cast(host, "revert_resize", ctx=ctx, instance=instance.to_dict())

    def snapshot_instance(self, ctx: dict[str, Any], host: str, instance_uuid: str, image_id: str) -> None:
        self._cast(host, "snapshot_instance", ctx=ctx, instance_uuid=instance_uuid, image_id=image_id)

    def cleanup_instance(
        self, ctx: dict[str, Any], host: str, instance_uuid: str, vifs: list[dict[str, Any]] | None = None
    ) -> None:
        """Drop the guest's copy on ``host`` without touching the instance record (the other side of a resize),
        and unplug ``vifs`` (``network_info`` entries) there."""
        self._cast(host, "cleanup_instance", ctx=ctx, instance_uuid=instance_uuid, vifs=vifs or [])

    def prep_migration(self, ctx: dict[str, Any], host: str, instance: InstanceSpec, dest: str) -> None:
        """On the source of a move between hosts: power the guest off, then hand the move to ``dest``."""
        self._cast(host, "prep_migration", ctx=ctx, instance=instance.to_dict(), dest=dest)

    def finish_revert_resize(self, ctx: dict[str, Any], host: str, instance: InstanceSpec, power_on: bool) -> None:
        """On the source after a revert (or failure) between hosts: plug the VIFs again, start the guest."""
        self._cast(host, "finish_revert_resize", ctx=ctx, instance=instance.to_dict(), power_on=power_on)

    def evacuate_instance(self, ctx: dict[str, Any], host: str, instance: InstanceSpec) -> None:
        """Rebuild ``instance`` here from its image (its old host is down); ctx["evacuate"] says how."""
        self._cast(host, "evacuate_instance", ctx=ctx, instance=instance.to_dict())

    def live_migration(self, ctx: dict[str, Any], host: str, instance: InstanceSpec, dest: str) -> None:
        """On the source: prepare ``dest``, move the running guest there, report (ctx["migration"] names it)."""
        self._cast(host, "live_migration", ctx=ctx, instance=instance.to_dict(), dest=dest)

    def pre_live_migration(
        self, ctx: dict[str, Any], host: str, instance: InstanceSpec, timeout: float | None = None
    ) -> dict[str, Any]:
        """On the destination (a call): make the guest's disk and plug its VIFs; returns the driver's migrate data."""
        return self._bus.call(  # type: ignore[no-any-return]
            AGENT_TOPIC, "pre_live_migration", server=host, timeout=timeout, ctx=ctx, instance=instance.to_dict()
        )

    def post_live_migration_at_destination(self, ctx: dict[str, Any], host: str, instance: InstanceSpec) -> None:
        """On the destination once the guest runs there: the driver records it, the agent reports its state."""
        self._cast(host, "post_live_migration_at_destination", ctx=ctx, instance=instance.to_dict())

    def rollback_live_migration_at_destination(
        self, ctx: dict[str, Any], host: str, instance_uuid: str, vifs: list[dict[str, Any]]
    ) -> None:
        """On the destination after a failed move: drop the prepared disk, unplug ``vifs`` there."""
        self._cast(host, "rollback_live_migration_at_destination", ctx=ctx, instance_uuid=instance_uuid, vifs=vifs)

    def get_console_output(self, ctx: dict[str, Any], host: str, instance_uuid: str, length: int | None) -> str:
        return self._bus.call(  # type: ignore[no-any-return]
            AGENT_TOPIC, "get_console_output", server=host, ctx=ctx, instance_uuid=instance_uuid, length=length
        )
