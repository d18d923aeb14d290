"""Hosts as admins see them: os-services, os-hypervisors and availability zones."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.compute import models
from stratus.compute.core import quotas, records
from stratus.compute.core.base import Deps, check_string, is_uuid
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, Conflict, NotFound, StratusError


class NotImplementedByDriver(StratusError):
    """501: what Nova answers when the virt driver cannot do a host operation."""

    status = 501
    title = "Not Implemented"


@dataclass
class Hypervisor:
    """One compute node with its inventory and usage."""

    id: int
    uuid: str
    hostname: str
    host: str
    service: models.ComputeService | None
    state: str
    status: str
    hypervisor_type: str
    hypervisor_version: int
    host_ip: str | None
    cpu_info: dict[str, Any]
    vcpus: int = 0
    memory_mb: int = 0
    local_gb: int = 0
    vcpus_used: int = 0
    memory_mb_used: int = 0
    local_gb_used: int = 0
    running_vms: int = 0
    servers: list[tuple[str, str]] = field(default_factory=list)


class HostManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _enforce(self, ctx: RequestContext, rule: str) -> None:
        self.deps.enforcer.enforce(ctx, f"os_compute_api:{rule}", {"project_id": ctx.project_id})

    # services

    def services(
        self, ctx: RequestContext, host: str | None = None, binary: str | None = None
    ) -> list[tuple[models.ComputeService, bool]]:
        """(service, is up) pairs, optionally filtered."""
        self._enforce(ctx, "os-services:list")
        query = sa.select(models.ComputeService).order_by(models.ComputeService.id)
        if host:
            query = query.where(models.ComputeService.host == host)
        if binary:
            query = query.where(models.ComputeService.binary == binary)
        with self.deps.db.reader() as session:
            return [(s, records.is_up(s, self.deps.conf)) for s in session.scalars(query)]

    def _service(self, session: Session, service_id: str) -> models.ComputeService:
        query = sa.select(models.ComputeService)
        if is_uuid(service_id):
            query = query.where(models.ComputeService.uuid == service_id)
        elif service_id.isdigit():
            query = query.where(models.ComputeService.id == int(service_id))
        else:
            raise BadRequest(f"Invalid uuid {service_id}")
        service = session.scalar(query)
        if service is None:
            raise NotFound(f"Service {service_id} could not be found.")
        return service

    def update_service(
        self,
        ctx: RequestContext,
        *,
        service_id: str | None = None,
        host: str | None = None,
        binary: str | None = None,
        changes: dict[str, Any],
    ) -> tuple[models.ComputeService, bool]:
        """Enable/disable (with reason) or force down a service, by uuid or by host + binary."""
        self._enforce(ctx, "os-services:update")
        with self.deps.db.session() as session:
            if service_id is not None:
                service = self._service(session, service_id)
            else:
                service = session.scalar(
                    sa.select(models.ComputeService).where(
                        models.ComputeService.host == host, models.ComputeService.binary == binary
                    )
                )
                if service is None:
                    raise NotFound(f"Host '{host}' is not mapped to any cell" if host else "Service not found.")
            if "status" in changes:
                status = changes["status"]
                if status not in ("enabled", "disabled"):
                    raise BadRequest(f"Invalid status {status!r}: must be 'enabled' or 'disabled'.")
                service.disabled = status == "disabled"
                service.disabled_reason = None
            if "disabled_reason" in changes:
                if not service.disabled:
                    raise BadRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.")
                service.disabled_reason = check_string(changes["disabled_reason"], "disabled_reason", min_len=1)
            if "forced_down" in changes:
                if not isinstance(changes["forced_down"], bool):
                    raise BadRequest("Invalid input for field/attribute forced_down. Must be a boolean.")
                service.forced_down = changes["forced_down"]
            session.flush()
            return service, records.is_up(service, self.deps.conf)

    def delete_service(self, ctx: RequestContext, service_id: str) -> None:
        self._enforce(ctx, "os-services:delete")
        with self.deps.db.session() as session:
            service = self._service(session, service_id)
            busy = session.scalar(
                sa.select(sa.func.count(models.Instance.uuid)).where(
                    models.Instance.host == service.host, quotas.live_instances()
                )
            )
            if busy:
                raise Conflict(f"Unable to delete compute service that is hosting instances ({busy}).")
            session.execute(sa.delete(models.ResourceProvider).where(models.ResourceProvider.host == service.host))
            session.delete(service)

    # hypervisors

    def hypervisors(
        self, ctx: RequestContext, rule: str, *, with_servers: bool = False, pattern: str | None = None
    ) -> list[Hypervisor]:
        self._enforce(ctx, f"os-hypervisors:{rule}")
        with self.deps.db.reader() as session:
            providers = list(session.scalars(sa.select(models.ResourceProvider).order_by(models.ResourceProvider.name)))
            if pattern is not None:
                providers = [p for p in providers if pattern in p.name]
            return [self._hypervisor(session, p, with_servers) for p in providers]

    def hypervisor(self, ctx: RequestContext, hypervisor_id: str, *, with_servers: bool = False) -> Hypervisor:
        self._enforce(ctx, "os-hypervisors:show")
        with self.deps.db.reader() as session:
            for provider in session.scalars(sa.select(models.ResourceProvider)):
                hyp = self._hypervisor(session, provider, with_servers)
                if hypervisor_id in (hyp.uuid, str(hyp.id)):
                    return hyp
        if not is_uuid(hypervisor_id) and not hypervisor_id.isdigit():
            raise BadRequest(f"Invalid uuid {hypervisor_id}")
        raise NotFound(f"Hypervisor with ID {hypervisor_id} could not be found.")

    def _hypervisor(self, session: Session, p: models.ResourceProvider, with_servers: bool) -> Hypervisor:
        service = session.scalar(sa.select(models.ComputeService).where(models.ComputeService.host == p.host))
        inventory = {
            i.resource_class: i
            for i in session.scalars(sa.select(models.Inventory).where(models.Inventory.provider_uuid == p.uuid))
        }
        used: dict[str, int] = {}
        for rc, amount in session.execute(
            sa.select(models.Allocation.resource_class, sa.func.sum(models.Allocation.used))
            .where(models.Allocation.provider_uuid == p.uuid)
            .group_by(models.Allocation.resource_class)
        ):
            used[rc] = int(amount or 0)
        servers = session.execute(
            sa.select(models.Instance.uuid, models.Instance.display_name)
            .where(models.Instance.node == p.name, quotas.live_instances())
            .order_by(models.Instance.created_at)
        ).all()
        if not servers:
            servers = session.execute(
                sa.select(models.Instance.uuid, models.Instance.display_name).where(
                    models.Instance.host == p.host, models.Instance.node.is_(None), quotas.live_instances()
                )
            ).all()
        up = service is not None and records.is_up(service, self.deps.conf)
        return Hypervisor(
            id=service.id if service else 0,
            uuid=p.uuid,
            hostname=p.name,
            host=p.host,
            service=service,
            state="up" if up else "down",
            status="disabled" if service is not None and service.disabled else "enabled",
            hypervisor_type=p.hypervisor_type,
            hypervisor_version=p.hypervisor_version,
            host_ip=p.host_ip,
            cpu_info=dict(p.cpu_info or {}),
            vcpus=inventory["VCPU"].total if "VCPU" in inventory else 0,
            memory_mb=inventory["MEMORY_MB"].total if "MEMORY_MB" in inventory else 0,
            local_gb=inventory["DISK_GB"].total if "DISK_GB" in inventory else 0,
            vcpus_used=used.get("VCPU", 0),
            memory_mb_used=used.get("MEMORY_MB", 0),
            local_gb_used=used.get("DISK_GB", 0),
            running_vms=len(servers),
            servers=[(u, n) for u, n in servers] if with_servers else [],
        )

    # os-hosts (Nova's host API, deprecated at 2.43)

    def legacy_hosts(self, ctx: RequestContext, zone: str | None) -> list[dict[str, str]]:
        """``{host_name, service, zone}`` of every service, in one zone if ``zone`` is not empty."""
        self._enforce(ctx, "os-hosts:list")
        default = self.deps.conf.default_availability_zone
        with self.deps.db.reader() as session:
            services = list(session.scalars(sa.select(models.ComputeService).order_by(models.ComputeService.id)))
        hosts = [
            {"host_name": s.host, "service": s.binary.rsplit("-", 1)[-1], "zone": s.availability_zone or default}
            for s in services
        ]
        return [h for h in hosts if not zone or h["zone"] == zone]

    def _compute_host(self, session: Session, host: str) -> models.ComputeService:
        service = session.scalar(
            sa.select(models.ComputeService).where(
                models.ComputeService.host == host, models.ComputeService.binary.like("%compute")
            )
        )
        if service is None:
            raise NotFound(f"Compute host {host} could not be found.")
        return service

    def legacy_host(self, ctx: RequestContext, host: str) -> list[dict[str, Any]]:
        """The resources of a compute host: (total), (used_now), (used_max) and each project's use."""
        self._enforce(ctx, "os-hosts:show")
        with self.deps.db.reader() as session:
            self._compute_host(session, host)
            hyps = [
                self._hypervisor(session, p, False)
                for p in session.scalars(sa.select(models.ResourceProvider).where(models.ResourceProvider.host == host))
            ]
            instances = list(
                session.scalars(sa.select(models.Instance).where(models.Instance.host == host, quotas.live_instances()))
            )

        def resource(project: str, cpu: int, memory_mb: int, disk_gb: int) -> dict[str, Any]:
            return {
                "resource": {"host": host, "project": project, "cpu": cpu, "memory_mb": memory_mb, "disk_gb": disk_gb}
            }

        per_project: dict[str, list[int]] = {}
        for inst in instances:
            used = per_project.setdefault(inst.project_id, [0, 0, 0])
            used[0] += inst.vcpus
            used[1] += inst.memory_mb
            used[2] += inst.root_gb + int((inst.flavor or {}).get("ephemeral_gb", 0) or 0)
        used_max = [sum(u[i] for u in per_project.values()) for i in range(3)]
        return [
            resource(
                "(total)", sum(h.vcpus for h in hyps), sum(h.memory_mb for h in hyps), sum(h.local_gb for h in hyps)
            ),
            resource(
                "(used_now)",
                sum(h.vcpus_used for h in hyps),
                sum(h.memory_mb_used for h in hyps),
                sum(h.local_gb_used for h in hyps),
            ),
            resource("(used_max)", *used_max),
            *(resource(project, *used) for project, used in sorted(per_project.items())),
        ]

    def legacy_update(self, ctx: RequestContext, host: str, body: Any) -> dict[str, str]:
        """``status`` enables/disables the compute service; ``maintenance_mode`` is not supported (501)."""
        self._enforce(ctx, "os-hosts:update")
        if not isinstance(body, dict) or not body or set(body) - {"status", "maintenance_mode"}:
            raise BadRequest("'status' or 'maintenance_mode' is needed for host update")
        for key in ("status", "maintenance_mode"):
            if key in body and body[key] not in ("enable", "disable"):
                raise BadRequest(f"Invalid input for field/attribute {key}. Value: {body[key]}.")
        with self.deps.db.session() as session:
            service = self._compute_host(session, host)
            if "maintenance_mode" in body:
                raise NotImplementedByDriver("Virt driver does not implement host maintenance mode.")
            service.disabled = body["status"] == "disable"
            service.disabled_reason = None
        return {"host": host, "status": "disabled" if body["status"] == "disable" else "enabled"}

    def legacy_power(self, ctx: RequestContext, host: str, action: str) -> None:
        """startup / shutdown / reboot of a whole host: not something the agents do (501, as libvirt)."""
        self._enforce(ctx, f"os-hosts:{action}")
        with self.deps.db.reader() as session:
            self._compute_host(session, host)
        raise NotImplementedByDriver("Virt driver does not implement host power management.")

    # availability zones

    def zones(
        self, ctx: RequestContext, *, detail: bool
    ) -> list[tuple[str, bool, list[tuple[models.ComputeService, bool]]]]:
        """(zone, available, [(service, up)]) for every zone with a compute host (and the default)."""
        self._enforce(ctx, "os-availability-zone:" + ("detail" if detail else "list"))
        default = self.deps.conf.default_availability_zone
        with self.deps.db.reader() as session:
            services = list(session.scalars(sa.select(models.ComputeService).order_by(models.ComputeService.host)))
        zones: dict[str, list[tuple[models.ComputeService, bool]]] = {}
        for s in services:
            zones.setdefault(s.availability_zone or default, []).append((s, records.is_up(s, self.deps.conf)))
        if not zones:
            zones[default] = []
        result = []
        for name, members in sorted(zones.items()):
            available = not members or any(up and not s.disabled for s, up in members)
            result.append((name, available, members))
        return result
