"""The admin actions that move a server to another host: ``migrate`` (cold), ``os-migrateLive`` and ``evacuate``.

As Nova's ``migrate_server.py`` / ``evacuate.py`` controllers and ``compute/api.py``: the state,
lock and target host are checked here (400/404/409 with Nova's wording), the migration is handed
to the conductor, and a migrate whose scheduling fails answers 400 at once (the conductor is
called, not cast, as Nova's ``migrate_server`` is). An evacuation needs the server's host to be
down; it is recorded ('accepted') and cast to the conductor. A live migration is checked the same way
(ACTIVE or PAUSED, task 'migrating'); the conductor's claim of a destination is a call (400 if none
fits), the move itself then runs on the hosts. Hosts here never share storage: only block migration
is possible, so ``block_migration: false`` is refused as Nova's pre-check refuses it without shared storage.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.core import records, states
from stratus.compute.core.base import Deps, check_string, ctx_dict, get_instance, parse_bool
from stratus.compute.core.instance_actions import record as record_action
from stratus.compute.core.servers import flavor_spec
from stratus.compute.messages import ImageSpec, RequestSpec
from stratus.compute.moves import flavor_db_id
from stratus.compute.rpcapi import ConductorAPI
from stratus.compute.scheduler.manager import AGENT_BINARY
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, Conflict, NotFound, ServiceUnavailable

Begin = Callable[..., models.Instance]
Send = Callable[..., None]


class MoveActions:
    """``migrate`` and ``evacuate``; ``begin``/``send`` are the ActionManager's state check and safe send."""

    def __init__(self, deps: Deps, begin: Begin, send: Send):
        self.deps = deps
        self._begin = begin
        self._send = send

    def migrate(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> tuple[int, Any]:
        host = None
        if version >= "2.56":
            unknown = set(args) - {"host"}
            if unknown:
                raise BadRequest(
                    f"Additional properties are not allowed ({', '.join(sorted(unknown))} were unexpected)"
                )
            if args.get("host") is not None:
                host = check_string(args["host"], "host", min_len=1)
        with self.deps.db.reader() as session:
            image_ref = get_instance(session, ctx, server_id).image_ref
        image = self._image(ctx, image_ref)  # the destination builds the disk on its own copy of it
        with self.deps.db.session() as session:
            inst = self._begin(
                session, ctx, server_id, "os-migrate-server:migrate", "migrate", (states.ACTIVE, states.STOPPED)
            )
            if host is not None:
                if host == inst.host:
                    raise BadRequest("Cannot migrate to the host where the server exists.")
                if _service(session, host) is None:
                    raise BadRequest(f"Compute host {host} could not be found.")
            inst.old_flavor = inst.new_flavor = inst.flavor  # a resize to the same flavor
            inst.task_state = states.RESIZE_PREP
            record_action(session, ctx, inst.uuid, "migrate")
            request = _move_request(inst, image, host)
            old_vm_state = inst.vm_state
        answer: list[str | None] = []
        self._send(
            ctx,
            server_id,
            lambda: answer.append(
                ConductorAPI(self.deps.bus).migrate_server(  # type: ignore[arg-type]
                    {**ctx_dict(ctx), "resize": {"old_vm_state": old_vm_state}}, server_id, request
                )
            ),
            restore={"task_state": None, "old_flavor": None, "new_flavor": None},
        )
        if answer and answer[0]:
            raise BadRequest(f"No valid host was found. {answer[0]}")
        return 202, None

    def live_migrate(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> tuple[int, Any]:
        host, block = _live_migrate_args(args, version)
        with self.deps.db.reader() as session:
            image_ref = get_instance(session, ctx, server_id).image_ref
        image = self._image(ctx, image_ref)  # the destination makes the disk's overlay on its own copy of it
        with self.deps.db.session() as session:
            inst = self._begin(
                session,
                ctx,
                server_id,
                "os-migrate-server:migrate_live",
                "os-migrateLive",
                (states.ACTIVE, states.PAUSED),
            )
            if host is not None:
                if _service(session, host) is None:
                    raise BadRequest(f"Compute host {host} could not be found.")
                if host == inst.host:
                    raise BadRequest(f"Unable to migrate instance ({inst.uuid}) to current host ({inst.host}).")
            if block is False:
                raise BadRequest(
                    f"{inst.host} is not on shared storage: Shared storage live-migration requires either shared "
                    "storage or boot-from-volume with no local disks."
                )
            inst.task_state = "migrating"
            record_action(session, ctx, inst.uuid, "live-migration")
            request = RequestSpec(
                instance_uuids=[inst.uuid],
                project_id=inst.project_id,
                user_id=inst.user_id,
                flavor=flavor_spec(inst.flavor),
                image=image,
                availability_zone=None if host else inst.availability_zone,
                requested_host=host,
                ignore_hosts=[inst.host] if inst.host else [],
            )
        answer: list[str | None] = []
        self._send(
            ctx,
            server_id,
            lambda: answer.append(
                ConductorAPI(self.deps.bus).live_migrate_instance(  # type: ignore[arg-type]
                    ctx_dict(ctx), server_id, request, True
                )
            ),
            restore={"task_state": None},
        )
        if answer and answer[0]:
            raise BadRequest(f"No valid host was found. {answer[0]}")
        return 202, None

    def evacuate(self, ctx: RequestContext, server_id: str, args: dict[str, Any], version: Any) -> tuple[int, Any]:
        host, password = _evacuate_args(args, version)
        with self.deps.db.reader() as session:
            image_ref = get_instance(session, ctx, server_id).image_ref
        image = self._image(ctx, image_ref)
        with self.deps.db.session() as session:
            inst = self._begin(
                session,
                ctx,
                server_id,
                "os-evacuate",
                "evacuate",
                None,
                need_host=False,
            )
            if host is not None and _service(session, host) is None:
                raise NotFound(f"Compute host {host} not found.")
            if host is not None and host == inst.host:
                raise BadRequest("The target host can't be the same one.")
            self._check_evacuable(session, inst)
            migration = models.Migration(
                instance_uuid=inst.uuid,
                migration_type="evacuation",
                status="accepted",
                source_compute=inst.host,
                source_node=inst.node,
                dest_compute=host,
                old_instance_type_id=flavor_db_id(session, inst.flavor),
                new_instance_type_id=flavor_db_id(session, inst.flavor),
                project_id=inst.project_id,
                user_id=inst.user_id,
            )
            session.add(migration)
            inst.task_state = states.REBUILDING
            record_action(session, ctx, inst.uuid, "evacuate")
            session.flush()
            request = _move_request(inst, image, host)
            migration_uuid, old_vm_state = migration.uuid, inst.vm_state
        try:
            self._send(
                ctx,
                server_id,
                lambda: ConductorAPI(self.deps.bus).evacuate_instance(  # type: ignore[arg-type]
                    {**ctx_dict(ctx), "evacuate": {"old_vm_state": old_vm_state}}, server_id, request, migration_uuid
                ),
                restore={"task_state": None},
            )
        except ServiceUnavailable:
            # never leave it 'accepted': the failed host would destroy its guest when it comes back
            with self.deps.db.session() as session:
                session.execute(
                    sa.update(models.Migration).where(models.Migration.uuid == migration_uuid).values(status="error")
                )
            raise
        if version < "2.14":  # Nova returns the (new) admin password only before 2.14
            return 200, {"adminPass": password or secrets.token_urlsafe(9)}
        return 200, None

    def _check_evacuable(self, session: Session, inst: models.Instance) -> None:
        """Nova's evacuate: ACTIVE/SHUTOFF/ERROR with no task, on a host whose compute service is down."""
        if inst.vm_state not in (states.ACTIVE, states.STOPPED, states.ERROR):
            raise Conflict(f"Cannot 'evacuate' instance {inst.uuid} while it is in vm_state {inst.vm_state}")
        if inst.task_state is not None:
            raise Conflict(f"Cannot 'evacuate' instance {inst.uuid} while it is in task_state {inst.task_state}")
        if not inst.host or self.deps.bus is None:
            raise Conflict(f"Instance {inst.uuid} is not ready: it has no host yet.")
        service = _service(session, inst.host)
        if service is not None and records.is_up(service, self.deps.conf):
            raise BadRequest(f"Compute service of {inst.host} is still in use.")

    def _image(self, ctx: RequestContext, image_ref: str) -> ImageSpec:
        """The image to rebuild from; if it is gone, its id alone (a driver with the image cached still can)."""
        if not image_ref:
            return ImageSpec(id="")
        try:
            return self.deps.images.get_active(ctx, image_ref)
        except (BadRequest, NotFound):
            return ImageSpec(id=image_ref)


def _evacuate_args(args: dict[str, Any], version: Any) -> tuple[str | None, str | None]:
    """(host, adminPass) from the body, validated as Nova's schemas for ``version`` do."""
    allowed = {"host", "adminPass"}
    if version < "2.14":
        allowed.add("onSharedStorage")
    if version >= "2.29" and version < "2.68":
        allowed.add("force")
    unknown = set(args) - allowed
    if unknown:
        raise BadRequest(f"Additional properties are not allowed ({', '.join(sorted(unknown))} were unexpected)")
    shared = False
    if version < "2.14":
        if "onSharedStorage" not in args:
            raise BadRequest("Invalid input for field/attribute evacuate. 'onSharedStorage' is a required property")
        shared = parse_bool(args["onSharedStorage"], "onSharedStorage")
    host = args.get("host")
    if host is not None:
        host = check_string(host, "host", min_len=1)
    password = args.get("adminPass")
    if password is not None:
        password = check_string(password, "adminPass", min_len=0, max_len=255)
        if shared:
            raise BadRequest("admin password can't be changed on existing disk")
    if "force" in args and parse_bool(args["force"], "force") and host is None:
        raise BadRequest("Can't force to a non-provided destination")
    return host, password


def _live_migrate_args(args: dict[str, Any], version: Any) -> tuple[str | None, bool | None]:
    """(host, block_migration: True, False or None for 'auto') validated as Nova's schemas for ``version``."""
    allowed = {"host", "block_migration"}
    required = ["block_migration", "host"]
    if version < "2.25":
        allowed.add("disk_over_commit")
        required.append("disk_over_commit")
    if version >= "2.30" and version < "2.68":
        allowed.add("force")
    unknown = set(args) - allowed
    if unknown:
        raise BadRequest(f"Additional properties are not allowed ({', '.join(sorted(unknown))} were unexpected)")
    for name in required:
        if name not in args:
            raise BadRequest(f"Invalid input for field/attribute os-migrateLive. '{name}' is a required property")
    host = args["host"]
    if host is not None:
        host = check_string(host, "host", min_len=1)
    raw = args["block_migration"]
    block: bool | None
    if version >= "2.25" and raw == "auto":
        block = None
    else:
        block = parse_bool(raw, "block_migration")
    if version < "2.25":
        parse_bool(args["disk_over_commit"], "disk_over_commit")
    if "force" in args and parse_bool(args["force"], "force") and host is None:
        raise BadRequest("Can't force to a non-provided destination")
    return host, block


def _service(session: Session, host: str) -> models.ComputeService | None:
    return session.scalar(
        sa.select(models.ComputeService).where(
            models.ComputeService.host == host, models.ComputeService.binary == AGENT_BINARY
        )
    )


def _move_request(inst: Any, image: ImageSpec, host: str | None) -> RequestSpec:
    """What the scheduler needs to place ``inst`` elsewhere: never on its current host (as Nova)."""
    return RequestSpec(
        instance_uuids=[inst.uuid],
        project_id=inst.project_id,
        user_id=inst.user_id,
        flavor=flavor_spec(inst.flavor),
        image=image,
        availability_zone=inst.availability_zone,
        requested_host=host,
        ignore_hosts=[inst.host] if inst.host else [],
    )
