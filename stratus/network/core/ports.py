"""Ports: IPAM, MACs, binding, port security, security groups and allowed address pairs."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.context import RequestContext
from stratus.network import models
from stratus.network.core import ipam, lookup, macs, quotas, views
from stratus.network.core.attributes import parse
from stratus.network.core.base import Deps, authorize, new_id, owner_project, retry_on_conflict
from stratus.network.core.secgroups import ensure_default_group
from stratus.network.errors import bad_request, conflict, not_found

ROUTER_OWNERS = ("network:router_interface", "network:router_gateway", "network:floatingip")
"""Ports that belong to a router or floating IP: managed through those APIs, not deleted directly."""
STATUSES = ("ACTIVE", "DOWN", "BUILD", "ERROR")


def _binding_attrs(attrs: dict[str, Any]) -> bool:
    return any(k in attrs for k in ("binding:host_id", "binding:profile"))


def _address_pairs(port_mac: str, pairs: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    out = []
    for pair in pairs or []:
        address = pair["ip_address"]
        try:
            if not isinstance(address, str):
                raise ValueError(address)
            text = (
                str(ipaddress.ip_network(address, strict=False))
                if "/" in address
                else str(ipaddress.ip_address(address))
            )
        except ValueError:
            raise bad_request(
                "InvalidInput", f"Invalid input for operation: '{address}' is not a valid IP address."
            ) from None
        entry = {"ip_address": text, "mac_address": pair.get("mac_address") or port_mac}
        if entry in out:
            raise bad_request("InvalidInput", "Invalid input for operation: Duplicate address pair.")
        out.append(entry)
    return out


class PortManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    # create

    def create(self, ctx: RequestContext, body: Any, *, internal: bool = False) -> dict[str, Any]:
        attrs = parse("port", body, create=True)
        project = owner_project(ctx, attrs)
        authorize(self.deps, ctx, "create_port", {"project_id": project})
        if _binding_attrs(attrs) and not internal:
            authorize(self.deps, ctx, "port:binding", {"project_id": project})
        port_id = new_id()
        requested_mac = attrs.get("mac_address")

        def write() -> dict[str, Any]:
            with self.deps.db.session() as session:
                net = lookup.network(session, ctx, attrs["network_id"])
                self._check_network_use(ctx, net, attrs, internal)
                quotas.check(session, self.deps, project, "port")
                row = self._new_row(session, port_id, project, net, attrs)
                session.add(row)
                session.flush()
                row.fixed_ips = self._allocate(session, row, attrs.get("fixed_ips"))
                row.security_groups = self._groups(session, ctx, row, attrs)
                session.flush()
                return views.port(ctx, row, self.deps.conf.ovs_datapath_type)

        def clash(err: Exception) -> Exception | None:
            if requested_mac and macs.is_mac_clash(err):
                return conflict(
                    "MacAddressInUse",
                    f"Unable to complete operation for network {attrs['network_id']}. "
                    f"The mac address {requested_mac} is in use.",
                )
            ips = [f.get("ip_address") for f in attrs.get("fixed_ips") or [] if f.get("ip_address")]
            if ips and macs.is_ip_clash(err):
                return conflict("IpAddressAlreadyAllocated", f"IP address {ips[0]} already allocated.")
            return None

        doc = retry_on_conflict(write, clash)
        self.deps.dataplane.port(port_id)
        return doc

    def _check_network_use(
        self, ctx: RequestContext, net: models.Network, attrs: dict[str, Any], internal: bool
    ) -> None:
        owner = ctx.is_admin or net.project_id == ctx.project_id
        if not (owner or net.shared or internal):
            raise not_found("Network", net.id)
        device_owner = attrs.get("device_owner", "")
        if device_owner.startswith("network:") and not (owner or internal):
            authorize(self.deps, ctx, "port:device_owner_network", {"project_id": net.project_id})
        if "mac_address" in attrs and not (owner or internal):
            authorize(self.deps, ctx, "port:mac_address", {"project_id": net.project_id})

    def _new_row(
        self, session: Session, port_id: str, project: str, net: models.Network, attrs: dict[str, Any]
    ) -> models.Port:
        security = attrs.get("port_security_enabled", net.port_security_enabled)
        mac = attrs.get("mac_address") or macs.random_mac(self.deps.conf.mac_prefix)
        pairs = attrs.get("allowed_address_pairs") or []
        if pairs and not security:
            raise conflict(
                "AddressPairAndPortSecurityRequired",
                "Port Security must be enabled in order to have allowed address pairs on a port.",
            )
        return models.Port(
            id=port_id,
            network_id=net.id,
            project_id=project,
            name=attrs.get("name", ""),
            description=attrs.get("description", ""),
            mac_address=mac,
            admin_state_up=attrs.get("admin_state_up", True),
            device_id=attrs.get("device_id", ""),
            device_owner=attrs.get("device_owner", ""),
            binding_host_id=attrs.get("binding:host_id") or "",
            binding_profile=attrs.get("binding:profile") or {},
            binding_vnic_type=attrs.get("binding:vnic_type", "normal"),
            port_security_enabled=security,
            allowed_address_pairs=_address_pairs(mac, pairs),
        )

    def _allocate(
        self, session: Session, row: models.Port, fixed_ips: list[dict[str, Any]] | None
    ) -> list[models.IPAllocation]:
        subnets = list(session.scalars(sa.select(models.Subnet).where(models.Subnet.network_id == row.network_id)))
        requested = None if fixed_ips is None else ipam.resolve_requested(row.network_id, subnets, fixed_ips)
        if requested is not None:
            gateways = {s.id: s.gateway_ip for s in subnets}
            for entry in requested:
                gw = gateways.get(entry["subnet_id"])
                if entry["ip_address"] and entry["ip_address"] == gw and row.device_owner != "network:router_interface":
                    raise conflict(
                        "IpAddressAlreadyAllocated",
                        f"IP address {gw} already allocated in subnet {entry['subnet_id']}",
                    )
        return ipam.allocation_rows(session, row, subnets, requested)

    def _groups(
        self, session: Session, ctx: RequestContext, row: models.Port, attrs: dict[str, Any]
    ) -> list[models.PortSecurityGroup]:
        wanted = attrs.get("security_groups")
        if row.device_owner.startswith("network:"):
            return []
        if not row.port_security_enabled:
            if wanted:
                raise bad_request(
                    "PortSecurityAndIPRequiredForSecurityGroups",
                    "Port security must be enabled and port must have an IP address in order to use security groups.",
                )
            return []
        if wanted is None:
            wanted = [ensure_default_group(session, self.deps, row.project_id)]
        owners = dict(
            session.execute(
                sa.select(models.SecurityGroup.id, models.SecurityGroup.project_id).where(
                    models.SecurityGroup.id.in_(wanted)
                )
            ).all()
        )
        for sg_id in wanted:
            if sg_id not in owners or (owners[sg_id] != row.project_id and not ctx.is_admin):
                raise not_found("SecurityGroup", sg_id)
        return [models.PortSecurityGroup(port_id=row.id, security_group_id=g) for g in dict.fromkeys(wanted)]

    # read

    def show(self, ctx: RequestContext, port_id: str) -> dict[str, Any]:
        with self.deps.db.reader() as session:
            return views.port(
                ctx, lookup.owned(session, ctx, models.Port, "Port", port_id), self.deps.conf.ovs_datapath_type
            )

    def list(self, ctx: RequestContext, params: Any = ()) -> list[dict[str, Any]]:
        with self.deps.db.reader() as session:
            query = sa.select(models.Port)
            if not ctx.is_admin:
                query = query.where(models.Port.project_id == ctx.project_id)
            for key in ("device_id", "network_id", "device_owner"):
                values = [v for k, v in params if k == key]
                if values:
                    query = query.where(getattr(models.Port, key).in_(values))
            return [views.port(ctx, r, self.deps.conf.ovs_datapath_type) for r in session.scalars(query)]

    # update / delete

    def update(self, ctx: RequestContext, port_id: str, body: Any, *, internal: bool = False) -> dict[str, Any]:
        attrs = parse("port", body, create=False)
        if _binding_attrs(attrs) and not internal:
            authorize(self.deps, ctx, "port:binding", {})
        old_routers: set[str] = set()

        def write() -> dict[str, Any]:
            with self.deps.db.session() as session:
                row = lookup.owned(session, ctx, models.Port, "Port", port_id)
                authorize(self.deps, ctx, "update_port", {"project_id": row.project_id})
                self._apply_update(session, ctx, row, attrs)
                row.revision_number += 1
                session.flush()
                old_routers.update(self._fip_routers(session, port_id))
                return views.port(ctx, row, self.deps.conf.ovs_datapath_type)

        def clash(err: Exception) -> Exception | None:
            if "mac_address" in attrs and macs.is_mac_clash(err):
                return conflict("MacAddressInUse", f"The mac address {attrs['mac_address']} is in use.")
            if attrs.get("fixed_ips") and macs.is_ip_clash(err):
                return conflict("IpAddressAlreadyAllocated", "IP address already allocated.")
            return None

        doc = retry_on_conflict(write, clash)
        self.deps.dataplane.port(port_id)
        for router_id in old_routers:
            self.deps.dataplane.router(router_id)
        return doc

    def _apply_update(self, session: Session, ctx: RequestContext, row: models.Port, attrs: dict[str, Any]) -> None:
        if "mac_address" in attrs and attrs["mac_address"] != row.mac_address:
            authorize(self.deps, ctx, "port:mac_address", {"project_id": row.project_id})
            if row.binding_host_id:
                raise conflict("PortBound", f"Unable to complete operation on port {row.id}: the port is bound.")
            row.mac_address = attrs["mac_address"]
        for key in ("name", "description", "admin_state_up", "device_id", "device_owner"):
            if key in attrs:
                setattr(row, key, attrs[key])
        if "binding:host_id" in attrs:
            row.binding_host_id = attrs["binding:host_id"] or ""
        if "binding:profile" in attrs:
            row.binding_profile = attrs["binding:profile"] or {}
        if "binding:vnic_type" in attrs:
            row.binding_vnic_type = attrs["binding:vnic_type"]
        if "port_security_enabled" in attrs:
            row.port_security_enabled = attrs["port_security_enabled"]
        if "allowed_address_pairs" in attrs:
            row.allowed_address_pairs = _address_pairs(row.mac_address, attrs["allowed_address_pairs"])
        if row.allowed_address_pairs and not row.port_security_enabled:
            raise conflict(
                "AddressPairAndPortSecurityRequired",
                "Port Security must be enabled in order to have allowed address pairs on a port.",
            )
        if "fixed_ips" in attrs:
            self._reallocate(session, row, attrs["fixed_ips"])
        if "security_groups" in attrs or "port_security_enabled" in attrs:
            wanted = attrs.get("security_groups")
            if wanted is None and "security_groups" not in attrs:
                wanted = [g.security_group_id for g in row.security_groups] if row.port_security_enabled else []
            if not row.port_security_enabled and "security_groups" not in attrs:
                wanted = []
            row.security_groups = []
            session.flush()
            row.security_groups = self._groups(session, ctx, row, {"security_groups": wanted or []})

    def _reallocate(self, session: Session, row: models.Port, fixed_ips: list[dict[str, Any]]) -> None:
        subnets = list(session.scalars(sa.select(models.Subnet).where(models.Subnet.network_id == row.network_id)))
        requested = ipam.resolve_requested(row.network_id, subnets, fixed_ips)
        keep = []
        for alloc in list(row.fixed_ips):
            match = next(
                (
                    r
                    for r in requested
                    if r["subnet_id"] == alloc.subnet_id and r["ip_address"] in (None, alloc.ip_address)
                ),
                None,
            )
            if match is not None and match.get("ip_address") == alloc.ip_address:
                requested.remove(match)
                keep.append(alloc)
        row.fixed_ips = keep
        session.flush()
        row.fixed_ips = keep + ipam.allocation_rows(session, row, subnets, requested)

    def _fip_routers(self, session: Session, port_id: str) -> list[str]:
        query = sa.select(models.FloatingIP.router_id).where(models.FloatingIP.fixed_port_id == port_id)
        return [r for r in session.scalars(query) if r]

    def delete(self, ctx: RequestContext, port_id: str, *, internal: bool = False) -> None:
        with self.deps.db.session() as session:
            row = lookup.owned(session, ctx, models.Port, "Port", port_id)
            authorize(self.deps, ctx, "delete_port", {"project_id": row.project_id})
            if row.device_owner in ROUTER_OWNERS and not internal:
                raise conflict(
                    "PortInUse",
                    f"Port {port_id} cannot be deleted directly via the port API: has device owner {row.device_owner}.",
                )
            routers = self._fip_routers(session, port_id)
            for fip in session.scalars(sa.select(models.FloatingIP).where(models.FloatingIP.fixed_port_id == port_id)):
                fip.fixed_port_id, fip.fixed_ip_address, fip.router_id, fip.status = None, None, None, "DOWN"
            session.delete(row)
        self.deps.dataplane.port_deleted(port_id)
        for router_id in routers:
            self.deps.dataplane.router(router_id)

    def set_status(self, port_id: str, status: str) -> dict[str, Any] | None:
        """Set a port's status (ACTIVE/DOWN/...) as the data plane reports it; None if the port is gone.

        Returns {"changed": bool, "device_id", "host", "network_id"}."""
        if status not in STATUSES:
            raise bad_request("InvalidInput", f"Invalid input for operation: status '{status}' is not valid.")
        with self.deps.db.session() as session:
            row = session.get(models.Port, port_id)
            if row is None:
                return None
            changed = row.status != status
            if changed:
                row.status = status
            return {"changed": changed, "device_id": row.device_id, "host": row.binding_host_id}
