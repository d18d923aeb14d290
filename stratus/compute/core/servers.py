"""Servers: create (quota-checked, all rows in one transaction), list, show, update, delete."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import ipaddress
import logging
import re
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.core import flavors, quotas, records, states
from stratus.compute.core.base import Deps, check_string, ctx_dict, get_instance, is_uuid, paginate, parse_int
from stratus.compute.core.instance_actions import record as record_action
from stratus.compute.core.network import parse_requested
from stratus.compute.core.records import ServerRecord
from stratus.compute.messages import FlavorSpec, ImageSpec, RequestSpec
from stratus.compute.rpcapi import ComputeAgentAPI, ConductorAPI
from stratus.core.context import RequestContext
from stratus.core.db import utcnow
from stratus.core.exceptions import BadRequest, Conflict, Forbidden

LOG = logging.getLogger(__name__)
MAX_USER_DATA = 65535


@dataclass
class CreateRequest:
    """A validated create body."""

    name: str
    image_id: str
    flavor_ref: str
    requested_networks: Any
    min_count: int
    max_count: int
    metadata: dict[str, str]
    user_data: str | None
    key_name: str | None
    zone: str | None
    host: str | None
    node: str | None
    group: str | None
    description: str | None
    access_ip_v4: str | None
    access_ip_v6: str | None
    config_drive: bool
    security_groups: list[dict[str, str]]
    tags: list[str]
    admin_pass: str | None = None


def _admin_pass(value: Any) -> str | None:
    """The password the user chose, if any (never echoed back in an error)."""
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 255:
        raise BadRequest("Invalid input for field/attribute adminPass. Must be a string of at most 255 characters.")
    return value


def ref_id(ref: Any, name: str) -> str:
    """The id at the end of an id-or-URL reference."""
    if not isinstance(ref, str | int) or isinstance(ref, bool) or not str(ref).strip():
        raise BadRequest(f"Invalid {name} provided.")
    return str(ref).rstrip("/").rsplit("/", 1)[-1]


def check_metadata(metadata: Any, name: str = "metadata") -> dict[str, str]:
    if not isinstance(metadata, dict):
        raise BadRequest(f"Invalid input for field/attribute {name}. Value: {metadata!r}. Must be an object.")
    for key, value in metadata.items():
        if not isinstance(key, str) or not 1 <= len(key) <= 255:
            raise BadRequest(f"Invalid input for field/attribute {name}. Metadata keys must be 1-255 characters.")
        if not isinstance(value, str) or len(value) > 255:
            raise BadRequest(
                f"Invalid input for field/attribute {name}. Value of {key!r} must be a string of at most 255 chars."
            )
    return dict(metadata)


def check_user_data(user_data: Any) -> str | None:
    if user_data is None:
        return None
    if not isinstance(user_data, str) or len(user_data) > MAX_USER_DATA:
        raise BadRequest("User data needs to be valid base 64.")
    try:
        base64.b64decode(user_data, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("User data needs to be valid base 64.") from None
    return user_data


def check_access_ip(value: Any, name: str) -> str | None:
    """``accessIPv4`` / ``accessIPv6``: an address of that family, kept in its canonical form."""
    if value is None or value == "":
        return None
    family = ipaddress.IPv4Address if name == "accessIPv4" else ipaddress.IPv6Address
    try:
        return str(family(value))
    except (ValueError, TypeError):
        raise BadRequest(
            f"Invalid input for field/attribute {name}. Value: {value}. '{value}' is not a '{name[-4:].lower()}'"
        ) from None


def check_name(value: Any) -> str:
    name = check_string(value, "name", min_len=1)
    if not name.strip():
        raise BadRequest("Invalid input for field/attribute name. Value: ''. Must not be blank.")
    return name


def hostname_for(name: str) -> str:
    host = re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-.")[:63]
    return host or "server"


def parse_zone(value: Any) -> tuple[str | None, str | None, str | None]:
    """``az``, ``az:host`` or ``az:host:node`` -> (zone, host, node)."""
    if value is None:
        return None, None, None
    zone = check_string(value, "availability_zone", min_len=1)
    parts = zone.split(":")
    if len(parts) > 3:
        raise BadRequest(f"Invalid availability_zone {zone}")
    parts += [""] * (3 - len(parts))
    return parts[0] or None, parts[1] or None, parts[2] or None


def _image_root_only(bdms: Any, image_ref: Any) -> bool:
    """True for no mapping, or just the local root disk from the image (what ``openstack server create`` sends)."""
    if not bdms:
        return True
    if not isinstance(bdms, list) or len(bdms) != 1 or not isinstance(bdms[0], dict):
        return False
    bdm = bdms[0]
    return (
        bdm.get("source_type") == "image"
        and bdm.get("destination_type", "local") == "local"
        and str(bdm.get("boot_index", 0)) == "0"
        and (not image_ref or bdm.get("uuid") == image_ref)
    )


def parse_create(body: Any, version: Any) -> CreateRequest:
    if not isinstance(body, dict) or not isinstance(body.get("server"), dict):
        raise BadRequest("Invalid input for field/attribute server. 'server' is a required property")
    s = body["server"]
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    if not isinstance(hints, dict):
        raise BadRequest("Invalid input for field/attribute os:scheduler_hints.")
    group = hints.get("group")
    if group is not None and not is_uuid(group):
        raise BadRequest(f"Invalid input for field/attribute group. Value: {group}. '{group}' is not a 'uuid'")
    if s.get("block_device_mapping") or not _image_root_only(s.get("block_device_mapping_v2"), s.get("imageRef")):
        raise BadRequest("Block device mapping is not supported by this cloud; boot from an image.")
    if not s.get("imageRef") and s.get("block_device_mapping_v2"):
        s = {**s, "imageRef": s["block_device_mapping_v2"][0].get("uuid")}
    if not s.get("imageRef"):
        raise BadRequest("Invalid imageRef provided.")
    image_id = ref_id(s.get("imageRef"), "imageRef")
    if not is_uuid(image_id):
        raise BadRequest("Invalid imageRef provided.")
    if "flavorRef" not in s:
        raise BadRequest("Invalid input for field/attribute server. 'flavorRef' is a required property")
    min_count = parse_int(s.get("min_count", 1), "min_count", 1)
    max_count = parse_int(s.get("max_count", min_count), "max_count", 1)
    if min_count > max_count:
        raise BadRequest("min_count must be <= max_count")
    zone, host, node = parse_zone(s.get("availability_zone"))
    if version >= "2.74":
        host = s.get("host") or host
        node = s.get("hypervisor_hostname") or node
    description = s.get("description")
    if description is not None:
        if version < "2.19":
            raise BadRequest("Additional properties are not allowed ('description' was unexpected)")
        check_string(description, "description", max_len=255)
    config_drive = s.get("config_drive", False)
    sgs = s.get("security_groups") or [{"name": "default"}]
    if not isinstance(sgs, list) or not all(isinstance(g, dict) and isinstance(g.get("name"), str) for g in sgs):
        raise BadRequest("Invalid input for field/attribute security_groups.")
    tags = s.get("tags") or []
    if not isinstance(tags, list) or len(tags) > 50 or not all(isinstance(t, str) and 0 < len(t) <= 60 for t in tags):
        raise BadRequest("Invalid input for field/attribute tags.")
    key_name = s.get("key_name")
    if key_name is not None:
        check_string(key_name, "key_name", min_len=1)
    return CreateRequest(
        name=check_name(s.get("name")),
        image_id=image_id,
        flavor_ref=ref_id(s.get("flavorRef"), "flavorRef"),
        requested_networks=parse_requested(s.get("networks"), required=version >= "2.37"),
        min_count=min_count,
        max_count=max_count,
        metadata=check_metadata(s.get("metadata", {})),
        user_data=check_user_data(s.get("user_data")),
        key_name=key_name,
        zone=zone,
        host=host,
        node=node,
        group=group,
        description=description,
        access_ip_v4=check_access_ip(s.get("accessIPv4"), "accessIPv4"),
        access_ip_v6=check_access_ip(s.get("accessIPv6"), "accessIPv6"),
        config_drive=config_drive in (True, "true", "True", "1", 1),
        security_groups=[{"name": g["name"]} for g in sgs],
        tags=list(tags),
        admin_pass=_admin_pass(s.get("adminPass")),
    )


def flavor_spec(snapshot: dict[str, Any]) -> FlavorSpec:
    return FlavorSpec.from_dict(snapshot)


class ServerManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _enforce(self, ctx: RequestContext, rule: str, project_id: str | None) -> None:
        self.deps.enforcer.enforce(ctx, f"os_compute_api:servers:{rule}", {"project_id": project_id})

    # create

    def create(self, ctx: RequestContext, body: Any, version: Any) -> tuple[list[ServerRecord], str]:
        """Create the servers of one request and ask the conductor to build them."""
        self._enforce(ctx, "create", ctx.project_id)
        req = parse_create(body, version)
        if req.host or req.node:
            self._enforce(ctx, "create:forced_host", ctx.project_id)
        image = self.deps.images.get_active(ctx, req.image_id)
        req.requested_networks = self.deps.network.validate(
            ctx, req.requested_networks, req.max_count, req.security_groups
        )
        reservation_id = "r-" + secrets.token_hex(4)
        with self.deps.db.session() as session:
            flavor = self._flavor_for_boot(session, ctx, req.flavor_ref, image)
            key = self._key(session, ctx, req.key_name)
            zone = self._check_zone(session, req.zone, req.host)
            group = self._group(session, ctx, req.group)
            count = self._claim_quota(session, ctx, req, flavor)
            if group is not None:
                self._check_members(session, ctx, group, count)
            servers = self._insert(session, ctx, req, flavor, image, key, zone, group, count, reservation_id)
            session.flush()
            created = records.load(session, self.deps.conf, [s for s, _ in servers])
        for rec, (_, password) in zip(created, servers, strict=True):
            rec.admin_pass = password
        self._build(ctx, created, flavor, image, zone, req, group)
        return created, reservation_id

    def _flavor_for_boot(
        self, session: Session, ctx: RequestContext, flavor_ref: str, image: ImageSpec
    ) -> flavors.FlavorView:
        try:
            flavor = flavors.lookup(session, ctx, flavor_ref)
        except Exception as exc:
            if getattr(exc, "status", 0) == 404:
                raise BadRequest(f"Flavor {flavor_ref} could not be found.") from None
            raise
        if flavor.disabled:
            raise BadRequest(f"Flavor {flavor_ref} is disabled.")
        if flavor.memory_mb < (image.min_ram or 0):
            raise BadRequest("Flavor's memory is too small for requested image.")
        if flavor.root_gb and flavor.root_gb < (image.min_disk or 0):
            raise BadRequest("Flavor's disk is too small for requested image.")
        return flavor

    @staticmethod
    def _key(session: Session, ctx: RequestContext, key_name: str | None) -> models.KeyPair | None:
        if key_name is None:
            return None
        key = session.scalar(
            sa.select(models.KeyPair).where(models.KeyPair.user_id == ctx.user_id, models.KeyPair.name == key_name)
        )
        if key is None:
            raise BadRequest("Invalid key_name provided.")
        return key

    def _check_zone(self, session: Session, zone: str | None, host: str | None) -> str | None:
        default = self.deps.conf.default_availability_zone
        services = list(session.scalars(sa.select(models.ComputeService)))
        zones = {s.availability_zone or default for s in services} | {default}
        if zone is not None and zone not in zones:
            raise BadRequest("The requested availability zone is not available")
        if host is not None:
            match = [s for s in services if s.host == host]
            if not match:
                raise BadRequest(f"Compute host {host} could not be found.")
            if zone is not None and (match[0].availability_zone or default) != zone:
                raise BadRequest(f"Compute host {host} is not in availability zone {zone}.")
            zone = zone or match[0].availability_zone or default
        return zone

    @staticmethod
    def _group(session: Session, ctx: RequestContext, group_uuid: str | None) -> models.ServerGroup | None:
        if group_uuid is None:
            return None
        group = session.get(models.ServerGroup, group_uuid)
        if group is None or (group.project_id != ctx.project_id and not ctx.is_admin):
            raise BadRequest(f"Instance group {group_uuid} could not be found.")
        return group

    def _claim_quota(
        self, session: Session, ctx: RequestContext, req: CreateRequest, flavor: flavors.FlavorView
    ) -> int:
        """How many servers to create (max_count if it fits, else as many as fit >= min_count)."""
        project = ctx.project_id or ""
        quotas.lock_project(session, project)
        limit = quotas.limits(session, self.deps.conf, project)
        quotas.check_delta(limit, {"metadata_items": 0}, {"metadata_items": len(req.metadata)})
        used = quotas.usage(session, project)
        fits = [req.max_count]
        for resource, per in (("instances", 1), ("cores", flavor.vcpus), ("ram", flavor.memory_mb)):
            room = quotas.headroom(limit[resource], used[resource])
            if room is not None and per > 0:
                fits.append(room // per)
        count = min(fits)
        if count < req.min_count:
            wanted = {"instances": req.min_count, "cores": flavor.vcpus * req.min_count}
            wanted["ram"] = flavor.memory_mb * req.min_count
            quotas.check_delta(limit, used, wanted)
        return count

    def _check_members(self, session: Session, ctx: RequestContext, group: models.ServerGroup, count: int) -> None:
        limit = quotas.limits(session, self.deps.conf, ctx.project_id or "")["server_group_members"]
        members = session.scalar(
            sa.select(sa.func.count(models.ServerGroupMember.instance_uuid))
            .join(models.Instance, models.Instance.uuid == models.ServerGroupMember.instance_uuid)
            .where(models.ServerGroupMember.group_uuid == group.uuid, quotas.live_instances())
        )
        quotas.check_delta(
            {"server_group_members": limit}, {"server_group_members": members or 0}, {"server_group_members": count}
        )

    def _insert(
        self,
        session: Session,
        ctx: RequestContext,
        req: CreateRequest,
        flavor: flavors.FlavorView,
        image: ImageSpec,
        key: models.KeyPair | None,
        zone: str | None,
        group: models.ServerGroup | None,
        count: int,
        reservation_id: str,
    ) -> list[tuple[models.Instance, str]]:
        made = []
        for index in range(count):
            name = f"{req.name}-{index + 1}" if count > 1 else req.name
            inst = models.Instance(
                uuid=str(uuid.uuid4()),
                display_name=name,
                display_description=req.description,
                hostname=hostname_for(name),
                project_id=ctx.project_id or "",
                user_id=ctx.user_id,
                image_ref=image.id,
                flavor=flavors.snapshot(flavor),
                vcpus=flavor.vcpus,
                memory_mb=flavor.memory_mb,
                root_gb=flavor.root_gb,
                vm_state=states.BUILDING,
                task_state=states.SCHEDULING,
                availability_zone=zone,
                key_name=key.name if key else None,
                key_data=key.public_key if key else None,
                user_data=req.user_data,
                config_drive="True" if req.config_drive else "",
                access_ip_v4=req.access_ip_v4,
                access_ip_v6=req.access_ip_v6,
                reservation_id=reservation_id,
                launch_index=index,
                requested_networks=req.requested_networks,
                security_groups=req.security_groups,
                tags=req.tags,
                network_info=[],
            )
            session.add(inst)
            session.flush()
            for k, v in req.metadata.items():
                session.add(models.InstanceMetadata(instance_uuid=inst.uuid, key=k, value=v))
            if group is not None:
                session.add(models.ServerGroupMember(group_uuid=group.uuid, instance_uuid=inst.uuid))
            record_action(session, ctx, inst.uuid, "create")
            made.append((inst, req.admin_pass or secrets.token_urlsafe(9)))
        return made

    def _build(
        self,
        ctx: RequestContext,
        created: list[ServerRecord],
        flavor: flavors.FlavorView,
        image: ImageSpec,
        zone: str | None,
        req: CreateRequest,
        group: models.ServerGroup | None,
    ) -> None:
        spec = RequestSpec(
            instance_uuids=[r.inst.uuid for r in created],
            project_id=ctx.project_id or "",
            user_id=ctx.user_id,
            flavor=flavor_spec(flavors.snapshot(flavor)),
            image=image,
            availability_zone=zone,
            requested_host=req.host,
            server_group_uuid=group.uuid if group else None,
        )
        try:
            if self.deps.bus is None:
                raise RuntimeError("no message bus configured")
            ConductorAPI(self.deps.bus).build_instances(ctx_dict(ctx), spec)
        except Exception as exc:  # commit-then-act: the servers exist, so they go to ERROR with a fault
            LOG.exception("could not ask the conductor to build %s", spec.instance_uuids)
            self.mark_error(spec.instance_uuids, f"Could not reach the scheduler: {exc}")
            for rec in created:
                rec.inst.vm_state, rec.inst.task_state = states.ERROR, None

    def mark_error(self, uuids: list[str], message: str) -> None:
        with self.deps.db.session() as session:
            for inst in session.scalars(sa.select(models.Instance).where(models.Instance.uuid.in_(uuids))):
                inst.vm_state, inst.task_state = states.ERROR, None
                session.add(models.InstanceFault(instance_uuid=inst.uuid, code=500, message=message[:255]))

    # read

    def show(self, ctx: RequestContext, server_id: str) -> ServerRecord:
        with self.deps.db.reader() as session:
            inst = get_instance(session, ctx, server_id)
            self._enforce(ctx, "show", inst.project_id)
            return records.load(session, self.deps.conf, [inst])[0]

    def list(self, ctx: RequestContext, params: dict[str, str], version: Any, *, detail: bool) -> list[ServerRecord]:
        rule = "detail" if detail else "index"
        self._enforce(ctx, rule, ctx.project_id)
        all_tenants = params.get("all_tenants", None)
        all_projects = all_tenants is not None and all_tenants.lower() not in ("false", "0", "off", "no")
        if all_projects:
            self._enforce(ctx, f"{rule}:get_all_tenants", ctx.project_id)
        admin = self.deps.enforcer.authorize(ctx, "os_compute_api:servers:allow_all_filters")
        query = sa.select(models.Instance)
        project = params.get("project_id") or params.get("tenant_id") if all_projects else ctx.project_id
        if project:
            query = query.where(models.Instance.project_id == project)
        since = _parse_time(params.get("changes-since"), "changes-since")
        if since is not None:
            query = query.where(models.Instance.updated_at >= since)
        elif not (admin and params.get("deleted", "").lower() in ("true", "1")):
            query = query.where(quotas.live_instances())
        if "status" in params:
            match = states.vm_states_for_status(params["status"])
            if match is None:
                if version >= "2.38":
                    raise BadRequest(f"Invalid status value: {params['status']}")
                return []
            vms, tasks = match
            query = query.where(models.Instance.vm_state.in_(vms))
            if tasks is not None:
                query = query.where(models.Instance.task_state.in_(tasks))
        if admin and params.get("host"):
            query = query.where(models.Instance.host == params["host"])
        if params.get("reservation_id"):
            query = query.where(models.Instance.reservation_id == params["reservation_id"])
        if params.get("image"):
            query = query.where(models.Instance.image_ref == ref_id(params["image"], "image"))
        sort_key = params.get("sort_key", "created_at")
        columns = {
            "created_at": models.Instance.created_at,
            "display_name": models.Instance.display_name,
            "updated_at": models.Instance.updated_at,
            "uuid": models.Instance.uuid,
        }
        if sort_key not in columns:
            raise BadRequest(f"Invalid sort_key {sort_key}")
        descending = params.get("sort_dir", "desc") != "asc"
        order = [columns[sort_key], models.Instance.uuid]
        query = query.order_by(*(c.desc() if descending else c.asc() for c in order))
        with self.deps.db.reader() as session:
            rows = [i for i in session.scalars(query) if _matches(i, params)]
            page = paginate(rows, lambda i: i.uuid, params.get("limit"), params.get("marker"), self.deps.conf.max_limit)
            return records.load(session, self.deps.conf, page)

    # update / delete

    def update(self, ctx: RequestContext, server_id: str, body: Any, version: Any) -> ServerRecord:
        if not isinstance(body, dict) or not isinstance(body.get("server"), dict):
            raise BadRequest("Invalid input for field/attribute server. 'server' is a required property")
        changes = body["server"]
        allowed = {"name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"} | (
            {"description"} if version >= "2.19" else set()
        )
        if set(changes) - allowed:
            raise BadRequest(f"Additional properties are not allowed ({', '.join(sorted(set(changes) - allowed))})")
        with self.deps.db.session() as session:
            inst = get_instance(session, ctx, server_id)
            self._enforce(ctx, "update", inst.project_id)
            if "name" in changes:
                inst.display_name = check_name(changes["name"])
            if "description" in changes:
                if changes["description"] is not None:
                    check_string(changes["description"], "description", max_len=255)
                inst.display_description = changes["description"]
            for field_name, attr in (("accessIPv4", "access_ip_v4"), ("accessIPv6", "access_ip_v6")):
                if field_name in changes:
                    setattr(inst, attr, check_access_ip(changes[field_name], field_name))
            inst.updated_at = utcnow()
            session.flush()
            return records.load(session, self.deps.conf, [inst])[0]

    def delete(self, ctx: RequestContext, server_id: str) -> None:
        """Delete at once if no host holds the server, else ask its agent to terminate it."""
        with self.deps.db.session() as session:
            inst = get_instance(session, ctx, server_id, lock=True)
            self._enforce(ctx, "delete", inst.project_id)
            check_lock(ctx, inst)
            service = None
            if inst.host:
                service = session.scalar(
                    sa.select(models.ComputeService).where(models.ComputeService.host == inst.host)
                )
            remote = bool(inst.host) and self.deps.bus is not None and service is not None
            remote = remote and records.is_up(service, self.deps.conf)  # type: ignore[arg-type]
            record_action(session, ctx, inst.uuid, "delete", finished=not remote)
            network_info = list(inst.network_info or [])
            if not remote:
                soft_delete(session, inst)
            else:
                inst.task_state = states.DELETING
            host = inst.host
        if not remote:
            self.deps.network.release(ctx, server_id, network_info)
            return
        try:
            agents = ComputeAgentAPI(self.deps.bus)  # type: ignore[arg-type]
            agents.terminate_instance(ctx_dict(ctx), host, server_id, network_info)  # type: ignore[arg-type]
        except Exception:
            LOG.exception("could not ask %s to terminate %s; deleting locally", host, server_id)
            with self.deps.db.session() as session:
                soft_delete(session, get_instance(session, ctx, server_id))
            self.deps.network.release(ctx, server_id, network_info)


def soft_delete(session: Session, inst: models.Instance) -> None:
    now = utcnow()
    inst.vm_state, inst.task_state, inst.deleted = states.DELETED, None, True
    inst.deleted_at = inst.terminated_at = now
    session.execute(sa.delete(models.ServerGroupMember).where(models.ServerGroupMember.instance_uuid == inst.uuid))


def check_lock(ctx: RequestContext, inst: models.Instance) -> None:
    if inst.locked and not ctx.is_admin:
        raise Conflict(f"Instance {inst.uuid} is locked")


def _parse_time(value: str | None, name: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"Invalid input for query parameters {name}. Value: {value}. Not a valid date-time") from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed


def _matches(inst: models.Instance, params: dict[str, str]) -> bool:
    """The filters done in Python: regexes, and the flavor id inside the flavor snapshot."""
    try:
        if params.get("name") and not re.search(params["name"], inst.display_name):
            return False
        if params.get("ip"):
            addresses = [ip.get("address", "") for port in inst.network_info or [] for ip in port.get("ips", [])]
            if not any(re.search(params["ip"], a) for a in addresses):
                return False
    except re.error as exc:
        raise BadRequest(f"Invalid regular expression in filter: {exc}") from None
    if params.get("flavor") and (inst.flavor or {}).get("flavorid") != ref_id(params["flavor"], "flavor"):
        return False
    return _tags_match(set(inst.tags or []), params)


def _tags_match(tags: set[str], params: dict[str, str]) -> bool:
    """Nova's tag filters (2.26): ``tags`` all, ``tags-any`` one, ``not-tags`` not all, ``not-tags-any`` none."""

    def wanted(name: str) -> set[str]:
        return {t for t in params.get(name, "").split(",") if t}

    if wanted("tags") and not wanted("tags") <= tags:
        return False
    if wanted("tags-any") and not wanted("tags-any") & tags:
        return False
    if wanted("not-tags") and wanted("not-tags") <= tags:
        return False
    return not (wanted("not-tags-any") & tags)


__all__ = ["Forbidden", "ServerManager", "check_lock", "soft_delete"]
