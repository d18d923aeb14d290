"""Flavors: admin CRUD, extra specs, and the access lists of private flavors."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.core.base import Deps, check_string, paginate, parse_bool, parse_int
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, Conflict, NotFound

FLAVOR_ID_RE = re.compile(r"^(?! )[a-zA-Z0-9. _-]+(?<! )$")
EXTRA_SPEC_KEY_RE = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")


@dataclass
class FlavorView:
    """A flavor as the API shows it (detached from the database)."""

    flavorid: str
    name: str
    vcpus: int
    memory_mb: int
    root_gb: int
    ephemeral_gb: int
    swap: int
    rxtx_factor: float
    is_public: bool
    disabled: bool
    description: str | None
    extra_specs: dict[str, str] = field(default_factory=dict)


def _view(session: Session, flavor: models.Flavor) -> FlavorView:
    specs = session.scalars(sa.select(models.FlavorExtraSpec).where(models.FlavorExtraSpec.flavor_id == flavor.id))
    return FlavorView(
        flavor.flavorid,
        flavor.name,
        flavor.vcpus,
        flavor.memory_mb,
        flavor.root_gb,
        flavor.ephemeral_gb,
        flavor.swap,
        flavor.rxtx_factor,
        flavor.is_public,
        flavor.disabled,
        flavor.description,
        {s.key: s.value for s in specs},
    )


def snapshot(view: FlavorView) -> dict[str, Any]:
    """What an instance keeps of its flavor (``instance.flavor``)."""
    return {
        "flavorid": view.flavorid,
        "name": view.name,
        "vcpus": view.vcpus,
        "memory_mb": view.memory_mb,
        "root_gb": view.root_gb,
        "ephemeral_gb": view.ephemeral_gb,
        "swap": view.swap,
        "extra_specs": dict(view.extra_specs),
    }


def visible(session: Session, ctx: RequestContext, flavor: models.Flavor) -> bool:
    if flavor.is_public or ctx.is_admin:
        return True
    return session.get(models.FlavorProject, (flavor.id, ctx.project_id or "")) is not None


def find(session: Session, ctx: RequestContext, flavorid: str) -> models.Flavor:
    """A flavor the caller may see, else NotFound."""
    flavor = session.scalar(sa.select(models.Flavor).where(models.Flavor.flavorid == str(flavorid)))
    if flavor is None or not visible(session, ctx, flavor):
        raise NotFound(f"Flavor {flavorid} could not be found.")
    return flavor


def lookup(session: Session, ctx: RequestContext, flavorid: str) -> FlavorView:
    return _view(session, find(session, ctx, flavorid))


class FlavorManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _enforce(self, ctx: RequestContext, rule: str) -> None:
        self.deps.enforcer.enforce(ctx, f"os_compute_api:{rule}", {"project_id": ctx.project_id})

    def list(self, ctx: RequestContext, params: dict[str, str]) -> list[FlavorView]:
        self._enforce(ctx, "flavors:index")
        is_public: bool | None = True
        if ctx.is_admin and "is_public" in params:
            value = params["is_public"].lower()
            is_public = None if value in ("none", "all") else value in ("true", "t", "1", "yes", "y")
        min_ram = parse_int(params["minRam"], "minRam", 0) if "minRam" in params else 0
        min_disk = parse_int(params["minDisk"], "minDisk", 0) if "minDisk" in params else 0
        with self.deps.db.reader() as session:
            flavors = session.scalars(sa.select(models.Flavor).order_by(models.Flavor.flavorid)).all()
            allowed = set()
            if ctx.project_id:
                allowed = set(
                    session.scalars(
                        sa.select(models.FlavorProject.flavor_id).where(
                            models.FlavorProject.project_id == ctx.project_id
                        )
                    )
                )
            chosen = []
            for f in flavors:
                if is_public is True and not (f.is_public or f.id in allowed):
                    continue
                if is_public is False and f.is_public:
                    continue
                if not ctx.is_admin and f.disabled:
                    continue
                if f.memory_mb >= min_ram and f.root_gb >= min_disk:
                    chosen.append(f)
            key = params.get("sort_key", "flavorid")
            attr = {"id": "flavorid", "ram": "memory_mb", "disk": "root_gb"}.get(key, key)
            if attr not in ("flavorid", "name", "memory_mb", "root_gb", "vcpus", "swap", "created_at"):
                raise BadRequest(f"Invalid sort_key {key}")
            chosen.sort(key=lambda f: getattr(f, attr), reverse=params.get("sort_dir", "asc") == "desc")
            page = paginate(chosen, lambda f: f.flavorid, params.get("limit"), params.get("marker"), 1000)
            return [_view(session, f) for f in page]

    def show(self, ctx: RequestContext, flavorid: str) -> FlavorView:
        self._enforce(ctx, "flavors:show")
        with self.deps.db.reader() as session:
            return lookup(session, ctx, flavorid)

    def create(self, ctx: RequestContext, body: dict[str, Any], *, with_description: bool) -> FlavorView:
        self._enforce(ctx, "os-flavor-manage:create")
        name = check_string(body.get("name"), "name", min_len=1).strip()
        if not name:
            raise BadRequest("Invalid input for field/attribute name. Value must not be blank.")
        flavorid = body.get("id")
        if flavorid is None or flavorid == "":
            flavorid = str(uuid.uuid4())
        elif isinstance(flavorid, int) and not isinstance(flavorid, bool):
            flavorid = str(flavorid)
        elif not isinstance(flavorid, str) or not FLAVOR_ID_RE.match(flavorid) or len(flavorid) > 255:
            raise BadRequest(f"Invalid input for field/attribute id. Value: {flavorid!r}.")
        swap = body.get("swap", 0)
        rxtx = body.get("rxtx_factor", 1.0)
        if isinstance(rxtx, bool) or not isinstance(rxtx, int | float) or not 0 < rxtx <= 3.40282e38:
            raise BadRequest(f"Invalid input for field/attribute rxtx_factor. Value: {rxtx!r}.")
        is_public = parse_bool(body.get("os-flavor-access:is_public", True), "os-flavor-access:is_public")
        description = body.get("description")
        if description is not None:
            if not with_description:
                raise BadRequest("Additional properties are not allowed ('description' was unexpected)")
            check_string(description, "description", max_len=65535)
        flavor = models.Flavor(
            flavorid=flavorid,
            name=name,
            vcpus=parse_int(body.get("vcpus"), "vcpus", 1, 2**31 - 1),
            memory_mb=parse_int(body.get("ram"), "ram", 1, 2**31 - 1),
            root_gb=parse_int(body.get("disk"), "disk", 0, 2**31 - 1),
            ephemeral_gb=parse_int(body.get("OS-FLV-EXT-DATA:ephemeral", 0), "OS-FLV-EXT-DATA:ephemeral", 0),
            swap=0 if swap == "" else parse_int(swap, "swap", 0, 2**31 - 1),
            rxtx_factor=float(rxtx),
            is_public=is_public,
            description=description,
        )
        with self.deps.db.session() as session:
            if session.scalar(sa.select(models.Flavor.id).where(models.Flavor.name == name)):
                raise Conflict(f"Flavor with name {name} already exists.")
            if session.scalar(sa.select(models.Flavor.id).where(models.Flavor.flavorid == flavorid)):
                raise Conflict(f"Flavor with ID {flavorid} already exists.")
            session.add(flavor)
            session.flush()
            # Like Nova (bug 1209101), the creating project is not given access to its private flavor.
            return _view(session, flavor)

    def update(self, ctx: RequestContext, flavorid: str, body: dict[str, Any]) -> FlavorView:
        self._enforce(ctx, "os-flavor-manage:update")
        if set(body) != {"description"}:
            raise BadRequest("Only 'description' can be updated, and it is required.")
        description = body["description"]
        if description is not None:
            check_string(description, "description", max_len=65535)
        with self.deps.db.session() as session:
            flavor = find(session, ctx, flavorid)
            flavor.description = description
            return _view(session, flavor)

    def delete(self, ctx: RequestContext, flavorid: str) -> None:
        self._enforce(ctx, "os-flavor-manage:delete")
        with self.deps.db.session() as session:
            session.delete(find(session, ctx, flavorid))

    # extra specs

    def extra_specs(self, ctx: RequestContext, flavorid: str, key: str | None = None) -> dict[str, str]:
        self._enforce(ctx, "os-flavor-extra-specs:" + ("show" if key else "index"))
        with self.deps.db.reader() as session:
            specs = lookup(session, ctx, flavorid).extra_specs
        if key is None:
            return specs
        if key not in specs:
            raise NotFound(f"Flavor {flavorid} has no extra specs with key {key}.")
        return {key: specs[key]}

    def set_extra_specs(self, ctx: RequestContext, flavorid: str, specs: Any, key: str | None = None) -> dict[str, str]:
        self._enforce(ctx, "os-flavor-extra-specs:" + ("update" if key else "create"))
        if not isinstance(specs, dict) or not specs:
            raise BadRequest("Malformed request body: extra specs must be a non-empty object.")
        if key is not None and (len(specs) != 1 or key not in specs):
            raise BadRequest("Request body and URI mismatch")
        for k, v in specs.items():
            if not EXTRA_SPEC_KEY_RE.match(k):
                raise BadRequest(f"Invalid input for field/attribute extra_specs. Key {k!r} is invalid.")
            if isinstance(v, bool) or not isinstance(v, str | int | float) or len(str(v)) > 255:
                raise BadRequest(f"Invalid input for field/attribute {k}. Value: {v!r}.")
        with self.deps.db.session() as session:
            flavor = find(session, ctx, flavorid)
            for k, v in specs.items():
                row = session.get(models.FlavorExtraSpec, (flavor.id, k))
                if row is None:
                    session.add(models.FlavorExtraSpec(flavor_id=flavor.id, key=k, value=str(v)))
                else:
                    row.value = str(v)
        return {k: str(v) for k, v in specs.items()}

    def delete_extra_spec(self, ctx: RequestContext, flavorid: str, key: str) -> None:
        self._enforce(ctx, "os-flavor-extra-specs:delete")
        with self.deps.db.session() as session:
            flavor = find(session, ctx, flavorid)
            row = session.get(models.FlavorExtraSpec, (flavor.id, key))
            if row is None:
                raise NotFound(f"Flavor {flavorid} has no extra specs with key {key}.")
            session.delete(row)

    # access lists

    def access_list(self, ctx: RequestContext, flavorid: str) -> list[str]:
        self._enforce(ctx, "os-flavor-access")
        with self.deps.db.reader() as session:
            flavor = find(session, ctx, flavorid)
            if flavor.is_public:
                raise NotFound("Access list not available for public flavors.")
            return self._projects(session, flavor)

    @staticmethod
    def _projects(session: Session, flavor: models.Flavor) -> list[str]:
        query = sa.select(models.FlavorProject.project_id).where(models.FlavorProject.flavor_id == flavor.id)
        return sorted(session.scalars(query))

    def change_access(self, ctx: RequestContext, flavorid: str, project_id: Any, *, add: bool) -> list[str]:
        self._enforce(ctx, "os-flavor-access:" + ("add_tenant_access" if add else "remove_tenant_access"))
        if not isinstance(project_id, str) or not project_id.strip():
            raise BadRequest("Invalid input for field/attribute tenant.")
        with self.deps.db.session() as session:
            flavor = find(session, ctx, flavorid)
            if flavor.is_public:
                raise Conflict(f"Can not add access to a public flavor {flavorid}.")
            row = session.get(models.FlavorProject, (flavor.id, project_id))
            if add and row is not None:
                raise Conflict(
                    f"Flavor access already exists for flavor {flavorid} and project {project_id} combination."
                )
            if not add and row is None:
                raise NotFound(f"Flavor access not found for {flavorid} / {project_id} combination.")
            if add:
                session.add(models.FlavorProject(flavor_id=flavor.id, project_id=project_id))
            else:
                session.delete(row)
            session.flush()
            return self._projects(session, flavor)
