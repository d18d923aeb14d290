"""Server actions (POST /servers/{id}/action): state checks in the database, then a cast to the host.

Each action checks the server's vm_state/task_state as Nova does (409 otherwise) and the lock
(409 for non-admins), sets the task_state and records an instance action in one transaction,
and only then asks the agent (or conductor) to act. If the message cannot be sent, the task
state is cleared again so the server is not stuck.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.core import flavors, quotas, records, states
from stratus.compute.core.base import Deps, ctx_dict, get_instance, parse_int
from stratus.compute.core.instance_actions import record as record_action
from stratus.compute.core.move_actions import MoveActions
from stratus.compute.core.records import ServerRecord
from stratus.compute.core.server_security_groups import ServerSecurityGroups
from stratus.compute.core.servers import (
    check_access_ip,
    check_lock,
    check_metadata,
    check_name,
    check_user_data,
    flavor_spec,
    ref_id,
)
from stratus.compute.messages import ImageSpec, InstanceSpec, RequestSpec
from stratus.compute.moves import RESIZE_TYPES, latest_migration
from stratus.compute.ports import vif_specs
from stratus.compute.rpcapi import ComputeAgentAPI, ConductorAPI
from stratus.core.bus import MessagingTimeout, RemoteError
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, Conflict, NotFound, ServiceUnavailable

LOG = logging.getLogger(__name__)
ANY_TASK = object()


@dataclass(frozen=True)
class PowerAction:
    rule: str
    vm_states: tuple[str, ...]
    task_state: str
    agent_action: str


POWER = {
    "os-stop": PowerAction("servers:stop", (states.ACTIVE, states.ERROR), states.POWERING_OFF, "stop"),
    "os-start": PowerAction("servers:start", (states.STOPPED,), states.POWERING_ON, "start"),
    "pause": PowerAction("os-pause-server:pause", (states.ACTIVE,), states.PAUSING, "pause"),
    "unpause": PowerAction("os-pause-server:unpause", (states.PAUSED,), states.UNPAUSING, "unpause"),
    "suspend": PowerAction("os-suspend-server:suspend", (states.ACTIVE,), states.SUSPENDING, "suspend"),
    "resume": PowerAction("os-suspend-server:resume", (states.SUSPENDED,), states.RESUMING, "resume"),
}
INSTANCE_ACTION_NAMES = {"os-stop": "stop", "os-start": "start"}


@dataclass
class ActionResult:
    """What the API answers: a status, an optional body and headers."""

    status: int = 202
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None
    server: ServerRecord | None = None


def invalid_state(action: str, inst: models.Instance, attr: str = "vm_state") -> Conflict:
    return Conflict(f"Cannot '{action}' instance {inst.uuid} while it is in {attr} {getattr(inst, attr)}")


def instance_spec(
    inst: models.Instance, metadata: dict[str, str], flavor: dict[str, Any], image: ImageSpec | None
) -> InstanceSpec:
    return InstanceSpec(
        uuid=inst.uuid,
        name=inst.display_name,
        hostname=inst.hostname,
        project_id=inst.project_id,
        user_id=inst.user_id,
        flavor=flavor_spec(flavor),
        image=image,
        user_data=inst.user_data,
        key_data=inst.key_data,
        metadata=metadata,
        vifs=vif_specs(inst.network_info or []),  # a rebuild or resize redefines the guest with its NICs
        availability_zone=inst.availability_zone,
    )


class ActionManager:
    def __init__(self, deps: Deps):
        self.deps = deps
        self._moves = MoveActions(deps, self._begin, self._send)
        self._security_groups = ServerSecurityGroups(deps)

    def run(self, ctx: RequestContext, server_id: str, body: Any, version: Any) -> ActionResult:
        if not isinstance(body, dict) or len(body) != 1:
            raise BadRequest("Malformed request body: an action body has exactly one key, the action.")
        ((name, args),) = body.items()
        if name in POWER:
            return self._power(ctx, server_id, name, POWER[name])
        handler: Callable[..., ActionResult] | None = {
            "reboot": self._reboot,
            "lock": self._lock,
            "unlock": self._unlock,
            "rebuild": self._rebuild,
            "resize": self._resize,
            "confirmResize": self._confirm_resize,
            "revertResize": self._revert_resize,
            "createImage": self._create_image,
            "createBackup": self._create_backup,
            "os-getConsoleOutput": self._console_output,
            "os-resetState": self._reset_state,
            "restore": self._restore,
            "forceDelete": self._force_delete,
            "migrate": self._migrate,
            "os-migrateLive": self._live_migrate,
            "evacuate": self._evacuate,
            "addSecurityGroup": self._add_security_group,
            "removeSecurityGroup": self._remove_security_group,
        }.get(name)
        if handler is None:
            raise BadRequest(f"There is no such action: {name}")
        if args is not None and not isinstance(args, dict):
            raise BadRequest(f"Invalid input for field/attribute {name}. Value: {args!r}. Must be an object.")
        return handler(ctx, server_id, args or {}, version)

    # helpers

    def _begin(
        self,
        session: Session,
        ctx: RequestContext,
        server_id: str,
        rule: str,
        action: str,
        vm_states: tuple[str, ...] | None,
        *,
        lock_check: bool = True,
        need_host: bool = True,
    ) -> models.Instance:
        inst = get_instance(session, ctx, server_id, lock=True)
        self.deps.enforcer.enforce(ctx, f"os_compute_api:{rule}", {"project_id": inst.project_id})
        if lock_check:
            check_lock(ctx, inst)
        if vm_states is not None and inst.vm_state not in vm_states:
            raise invalid_state(action, inst)
        if vm_states is not None and inst.task_state is not None:
            raise invalid_state(action, inst, "task_state")
        if need_host and (not inst.host or self.deps.bus is None):
            raise Conflict(f"Instance {inst.uuid} is not ready: it has no host yet.")
        return inst

    def _send(self, ctx: RequestContext, server_id: str, send: Callable[[], None], *, restore: dict[str, Any]) -> None:
        """Send after commit; on failure put the fields back and answer 503."""
        try:
            send()
        except Exception as exc:
            LOG.exception("could not send an action for %s", server_id)
            with self.deps.db.session() as session:
                inst = session.get(models.Instance, server_id)
                if inst is not None:
                    for key, value in restore.items():
                        setattr(inst, key, value)
            raise ServiceUnavailable(f"The compute host could not be reached: {exc}") from None

    def _agent(self) -> ComputeAgentAPI:
        return ComputeAgentAPI(self.deps.bus)  # type: ignore[arg-type]

    # actions

    def _power(self, ctx: RequestContext, server_id: str, name: str, spec: PowerAction, **params: Any) -> ActionResult:
        action = INSTANCE_ACTION_NAMES.get(name, name)
        with self.deps.db.session() as session:
            inst = self._begin(session, ctx, server_id, spec.rule, action, spec.vm_states)
            inst.task_state = spec.task_state
            record_action(session, ctx, inst.uuid, action)
            host = inst.host
        self._send(
            ctx,
            server_id,
            lambda: self._agent().power_action(ctx_dict(ctx), host, server_id, spec.agent_action, **params),
            restore={"task_state": None},
        )
        return ActionResult()

    def _reboot(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        kind = args.get("type")
        if not isinstance(kind, str) or kind.upper() not in ("SOFT", "HARD"):
            raise BadRequest("Invalid input for field/attribute type. Value must be 'SOFT' or 'HARD'.")
        hard = kind.upper() == "HARD"
        allowed = (
            (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED, states.ERROR) if hard else (states.ACTIVE,)
        )
        spec = PowerAction("servers:reboot", allowed, states.REBOOTING_HARD if hard else states.REBOOTING, "reboot")
        return self._power(ctx, server_id, "reboot", spec, hard=hard)

    def _reset_state(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        """Admin: force the vm_state to ``active`` or ``error`` and clear the task (Nova's os-resetState)."""
        state = args.get("state")
        if set(args) != {"state"} or state not in (states.ACTIVE, states.ERROR):
            raise BadRequest(f"Invalid input for field/attribute state. Value: {state}. Must be 'active' or 'error'.")
        with self.deps.db.session() as session:
            inst = self._begin(
                session,
                ctx,
                server_id,
                "os-admin-actions:reset_state",
                "os-resetState",
                None,
                lock_check=False,
                need_host=False,
            )
            inst.vm_state, inst.task_state = state, None
        return ActionResult()

    def _restore(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        """Restore a soft-deleted server; deletes here are never deferred, so no live server can be restored."""
        return self._soft_deleted_only(ctx, server_id, "servers:restore", "restore")

    def _force_delete(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        return self._soft_deleted_only(ctx, server_id, "servers:force_delete", "forceDelete")

    def _soft_deleted_only(self, ctx: RequestContext, server_id: str, rule: str, action: str) -> ActionResult:
        with self.deps.db.session() as session:
            self._begin(session, ctx, server_id, rule, action, (states.SOFT_DELETED,), need_host=False)
        return ActionResult()  # not reached: there are no soft-deleted servers

    def _add_security_group(
        self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any
    ) -> ActionResult:
        self._security_groups.add(ctx, server_id, args)
        return ActionResult()

    def _remove_security_group(
        self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any
    ) -> ActionResult:
        self._security_groups.remove(ctx, server_id, args)
        return ActionResult()

    def _lock(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        reason = args.get("locked_reason")
        if reason is not None and (version < "2.73" or not isinstance(reason, str) or len(reason) > 255):
            raise BadRequest("Invalid input for field/attribute locked_reason.")
        with self.deps.db.session() as session:
            inst = self._begin(
                session, ctx, server_id, "os-lock-server:lock", "lock", None, lock_check=False, need_host=False
            )
            inst.locked, inst.locked_reason = True, reason
            inst.locked_by = "owner" if inst.project_id == ctx.project_id else "admin"
            record_action(session, ctx, inst.uuid, "lock", finished=True)
        return ActionResult()

    def _unlock(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        with self.deps.db.session() as session:
            inst = self._begin(
                session, ctx, server_id, "os-lock-server:unlock", "unlock", None, lock_check=False, need_host=False
            )
            if inst.locked and inst.locked_by == "admin" and inst.project_id == ctx.project_id:
                self.deps.enforcer.enforce(ctx, "os_compute_api:os-lock-server:unlock:unlock_override")
            inst.locked, inst.locked_by, inst.locked_reason = False, None, None
            record_action(session, ctx, inst.uuid, "unlock", finished=True)
        return ActionResult()

    def _rebuild(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        image_id = ref_id(args.get("imageRef"), "imageRef")
        image = self.deps.images.get_active(ctx, image_id)
        allowed = {
            "imageRef",
            "name",
            "metadata",
            "adminPass",
            "preserve_ephemeral",
            "OS-DCF:diskConfig",
            "accessIPv4",
            "accessIPv6",
            "personality",
        }
        allowed |= {"description"} if version >= "2.19" else set()
        allowed |= {"key_name"} if version >= "2.54" else set()
        allowed |= {"user_data"} if version >= "2.57" else set()
        if set(args) - allowed:
            raise BadRequest(f"Additional properties are not allowed ({', '.join(sorted(set(args) - allowed))})")
        with self.deps.db.session() as session:
            inst = self._begin(
                session, ctx, server_id, "servers:rebuild", "rebuild", (states.ACTIVE, states.STOPPED, states.ERROR)
            )
            if inst.memory_mb < image.min_ram:
                raise BadRequest("Flavor's memory is too small for requested image.")
            if inst.root_gb and inst.root_gb < image.min_disk:
                raise BadRequest("Flavor's disk is too small for requested image.")
            if "name" in args:
                inst.display_name = check_name(args["name"])
            if "description" in args:
                inst.display_description = args["description"]
            if "user_data" in args:
                inst.user_data = check_user_data(args["user_data"])
            if "key_name" in args:
                self._set_key(session, ctx, inst, args["key_name"])
            for field_name, attr in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
                if field_name in args:
                    setattr(inst, attr, check_access_ip(args[field_name], field_name))
            if "metadata" in args:
                self._replace_metadata(session, ctx, inst, check_metadata(args["metadata"]))
            old_image, old_vm_state = inst.image_ref, inst.vm_state
            inst.image_ref, inst.task_state = image.id, states.REBUILDING
            record_action(session, ctx, inst.uuid, "rebuild")
            session.flush()
            rec = records.load(session, self.deps.conf, [inst])[0]
            spec = instance_spec(inst, rec.metadata, inst.flavor, image)
            host = inst.host
        self._send(
            ctx,
            server_id,
            # Nova keeps a stopped server stopped after a rebuild: the agent is told what it was.
            lambda: self._agent().rebuild_instance(
                {**ctx_dict(ctx), "rebuild": {"vm_state": old_vm_state}}, host, spec
            ),
            restore={"task_state": None, "image_ref": old_image},
        )
        rec.inst.task_state = states.REBUILDING
        password = args.get("adminPass")
        rec.admin_pass = password if isinstance(password, str) else secrets.token_urlsafe(9)
        return ActionResult(server=rec)

    def _set_key(self, session: Session, ctx: RequestContext, inst: models.Instance, key_name: Any) -> None:
        if key_name is None:
            inst.key_name = inst.key_data = None
            return
        key = session.scalar(
            sa.select(models.KeyPair).where(models.KeyPair.user_id == ctx.user_id, models.KeyPair.name == key_name)
        )
        if key is None:
            raise BadRequest("Invalid key_name provided.")
        inst.key_name, inst.key_data = key.name, key.public_key

    def _replace_metadata(
        self, session: Session, ctx: RequestContext, inst: models.Instance, meta: dict[str, str]
    ) -> None:
        limit = quotas.limits(session, self.deps.conf, inst.project_id)
        quotas.check_delta(limit, {"metadata_items": 0}, {"metadata_items": len(meta)})
        session.execute(sa.delete(models.InstanceMetadata).where(models.InstanceMetadata.instance_uuid == inst.uuid))
        for k, v in meta.items():
            session.add(models.InstanceMetadata(instance_uuid=inst.uuid, key=k, value=v))

    def _resize(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        if "flavorRef" not in args:
            raise BadRequest("Invalid input for field/attribute resize. 'flavorRef' is a required property")
        flavor_ref = ref_id(args["flavorRef"], "flavorRef")
        with self.deps.db.session() as session:
            inst = self._begin(session, ctx, server_id, "servers:resize", "resize", (states.ACTIVE, states.STOPPED))
            try:
                new = flavors.lookup(session, ctx, flavor_ref)
            except NotFound:
                raise BadRequest(f"Flavor {flavor_ref} could not be found.") from None
            if new.flavorid == (inst.flavor or {}).get("flavorid"):
                raise BadRequest("When resizing, instances must change flavor!")
            if new.root_gb and new.root_gb < inst.root_gb:
                raise BadRequest("Resize to a flavor with a smaller disk is not allowed.")
            quotas.lock_project(session, inst.project_id)
            limit = quotas.limits(session, self.deps.conf, inst.project_id)
            used = quotas.usage(session, inst.project_id)
            quotas.check_delta(limit, used, {"cores": new.vcpus - inst.vcpus, "ram": new.memory_mb - inst.memory_mb})
            inst.old_flavor, inst.new_flavor = inst.flavor, flavors.snapshot(new)
            # usage counts the larger of the two flavors while the resize is pending (quota is held)
            inst.vcpus, inst.memory_mb = max(inst.vcpus, new.vcpus), max(inst.memory_mb, new.memory_mb)
            inst.task_state = states.RESIZE_PREP
            record_action(session, ctx, inst.uuid, "resize")
            request = RequestSpec(
                instance_uuids=[inst.uuid],
                project_id=inst.project_id,
                user_id=inst.user_id,
                flavor=flavor_spec(inst.new_flavor),
                availability_zone=inst.availability_zone,
            )
            old, old_vm_state = inst.old_flavor, inst.vm_state
        restore = {
            "task_state": None,
            "new_flavor": None,
            "old_flavor": None,
            "vcpus": old.get("vcpus", 0),
            "memory_mb": old.get("memory_mb", 0),
        }
        self._send(
            ctx,
            server_id,
            # Nova keeps a stopped server stopped through the resize: the conductor and agent are told.
            lambda: ConductorAPI(self.deps.bus).resize_instance(  # type: ignore[arg-type]
                {**ctx_dict(ctx), "resize": {"old_vm_state": old_vm_state}}, server_id, request
            ),
            restore=restore,
        )
        return ActionResult()

    def _confirm_resize(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        with self.deps.db.session() as session:
            inst = self._begin(session, ctx, server_id, "servers:confirm_resize", "confirmResize", (states.RESIZED,))
            inst.task_state = states.RESIZE_CONFIRMING
            record_action(session, ctx, inst.uuid, "confirmResize")
            host = inst.host
            move = _move_of(session, inst.uuid, "confirming")
        self._send(
            ctx,
            server_id,
            lambda: self._agent().confirm_resize({**ctx_dict(ctx), "migration": move}, host, server_id),
            restore={"task_state": None},
        )
        return ActionResult(status=204)

    def _migrate(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        status, body = self._moves.migrate(ctx, server_id, args, version)
        return ActionResult(status=status, body=body)

    def _live_migrate(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        status, body = self._moves.live_migrate(ctx, server_id, args, version)
        return ActionResult(status=status, body=body)

    def _evacuate(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        status, body = self._moves.evacuate(ctx, server_id, args, version)
        return ActionResult(status=status, body=body)

    def _revert_resize(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        with self.deps.db.session() as session:
            inst = self._begin(session, ctx, server_id, "servers:revert_resize", "revertResize", (states.RESIZED,))
            inst.task_state = states.RESIZE_REVERTING
            record_action(session, ctx, inst.uuid, "revertResize")
            rec = records.load(session, self.deps.conf, [inst])[0]
            spec = instance_spec(inst, rec.metadata, inst.old_flavor or inst.flavor, None)
            host = inst.host
            move = _move_of(session, inst.uuid, "reverting")
        self._send(
            ctx,
            server_id,
            lambda: self._agent().revert_resize({**ctx_dict(ctx), "migration": move}, host, spec),
            restore={"task_state": None},
        )
        return ActionResult()

    def _create_image(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        result = self._snapshot(ctx, server_id, args, version, "servers:create_image", "createImage")
        if version >= "2.45":
            return result
        image_id = result.body["image_id"] if result.body else ""
        location = f"{self.deps.images.image_url.rstrip('/')}/v2/images/{image_id}"
        return ActionResult(headers={"Location": location})

    def _snapshot(
        self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any, rule: str, action: str
    ) -> ActionResult:
        """Create the image record and ask the host to upload the disk into it; the body names the image."""
        name = check_name(args.get("name"))
        metadata = check_metadata(args.get("metadata", {}))
        allowed = (states.ACTIVE, states.STOPPED, states.PAUSED, states.SUSPENDED)
        with self.deps.db.session() as session:
            inst = self._begin(session, ctx, server_id, rule, action, allowed)
            limit = quotas.limits(session, self.deps.conf, inst.project_id)
            quotas.check_delta(limit, {"metadata_items": 0}, {"metadata_items": len(metadata)})
            base = inst.image_ref
        props = {"image_type": "snapshot", **metadata, "instance_uuid": server_id, "base_image_ref": base}
        image = self.deps.images.create_snapshot(ctx, name, props)
        with self.deps.db.session() as session:
            inst = self._begin(session, ctx, server_id, rule, action, allowed)
            inst.task_state = states.IMAGE_BACKUP if action == "createBackup" else states.IMAGE_SNAPSHOT
            record_action(session, ctx, inst.uuid, action)
            host = inst.host
        self._send(
            ctx,
            server_id,
            lambda: self._agent().snapshot_instance(ctx_dict(ctx), host, server_id, image["id"]),
            restore={"task_state": None},
        )
        return ActionResult(body={"image_id": image["id"]})

    def _create_backup(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        """A snapshot tagged ``image_type=backup``; beyond ``rotation`` backups of that type the oldest go."""
        for key in ("name", "backup_type", "rotation"):
            if key not in args:
                raise BadRequest(f"Invalid input for field/attribute createBackup. '{key}' is a required property")
        unknown = set(args) - {"name", "backup_type", "rotation", "metadata"}
        if unknown:
            raise BadRequest(f"Additional properties are not allowed ({', '.join(sorted(unknown))} were unexpected)")
        backup_type = args["backup_type"]
        if not isinstance(backup_type, str):
            raise BadRequest("Invalid input for field/attribute backup_type.")
        rotation = parse_int(args["rotation"], "rotation", 0)
        metadata = {**check_metadata(args.get("metadata", {})), "image_type": "backup", "backup_type": backup_type}
        args = {"name": args["name"], "metadata": metadata}
        result = self._snapshot(ctx, server_id, args, version, "os-create-backup", "createBackup")
        image_id = result.body["image_id"] if result.body else ""
        if rotation == 0 and image_id:  # Nova: rotation 0 keeps no backup at all
            self.deps.images.delete_backups(ctx, server_id, backup_type, keep=0, exclude=image_id)
        elif image_id:
            self.deps.images.delete_backups(ctx, server_id, backup_type, keep=rotation)
        if version < "2.45":
            location = f"{self.deps.images.image_url.rstrip('/')}/v2/images/{image_id}"
            return ActionResult(headers={"Location": location})
        return result

    def _console_output(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> ActionResult:
        length = args.get("length")
        if length is not None:
            length = parse_int(length, "length", -1)
            if length == -1:
                length = None
        with self.deps.db.reader() as session:
            inst = get_instance(session, ctx, server_id)
            self.deps.enforcer.enforce(ctx, "os_compute_api:os-console-output", {"project_id": inst.project_id})
            if not inst.host or inst.vm_state not in (states.ACTIVE, states.PAUSED, states.SUSPENDED, states.STOPPED):
                raise Conflict(f"Instance {server_id} is not ready")
            host = inst.host
        try:
            output = self._agent().get_console_output(ctx_dict(ctx), host, server_id, None)
        except MessagingTimeout:
            raise Conflict(f"Instance {server_id} is not ready: its host did not answer.") from None
        except RemoteError as exc:
            if exc.status == 404:
                raise NotFound(f"Console output of instance {server_id} is not available.") from None
            raise Conflict(f"Could not get the console output of instance {server_id}: {exc.message}") from None
        if length is not None:  # Nova's tail: the last ``length`` pieces of the log split on newlines
            output = "\n".join(output.split("\n")[-length:]) if length > 0 else ""
        return ActionResult(status=200, body={"output": output})


def _move_of(session: Session, instance_uuid: str, status: str) -> dict[str, Any] | None:
    """The resize/migration being confirmed or reverted, now in ``status``, as the agents are told of it."""
    record = latest_migration(session, instance_uuid, RESIZE_TYPES)
    if record is None or record.status != "finished":
        return None
    record.status = status
    return {"uuid": record.uuid, "source_compute": record.source_compute, "dest_compute": record.dest_compute}
