"""Floating IPs: allocation on an external network, association through a router with a gateway there."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.context import RequestContext
from stratus.network import models
from stratus.network.core import lookup, macs, quotas, views
from stratus.network.core.attributes import parse
from stratus.network.core.base import Deps, authorize, new_id, owner_project, retry_on_conflict
from stratus.network.core.routerports import FIP_OWNER, INTERFACE_OWNER, make_port
from stratus.network.errors import bad_request, conflict, not_found


def find_router(session: Session, external_net: str, port: models.Port, fixed_ip: str) -> str:
    """The router that reaches ``external_net`` from the subnet of ``fixed_ip``, else 404 as Neutron."""
    alloc = next(a for a in port.fixed_ips if a.ip_address == fixed_ip)
    query = (
        sa.select(models.Router)
        .join(models.Port, models.Port.device_id == models.Router.id)
        .join(models.IPAllocation, models.IPAllocation.port_id == models.Port.id)
        .where(models.Port.device_owner == INTERFACE_OWNER, models.IPAllocation.subnet_id == alloc.subnet_id)
    )
    for router in session.scalars(query):
        gw = session.get(models.Port, router.gw_port_id) if router.gw_port_id else None
        if gw is not None and gw.network_id == external_net:
            return router.id
    err = not_found("ExternalGatewayForFloatingIP", external_net)
    err.message = (
        f"External network {external_net} is not reachable from subnet {alloc.subnet_id}.  Therefore, cannot "
        f"associate Port {port.id} with a Floating IP."
    )
    return _raise(err)


def _raise(err: Exception) -> str:
    raise err


class FloatingIpManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _associate(
        self, session: Session, ctx: RequestContext, fip: models.FloatingIP, port_id: str | None, fixed: str | None
    ) -> None:
        if port_id is None:
            if fixed is not None:
                raise bad_request("BadRequest", "fixed_ip_address cannot be specified without a port_id")
            fip.fixed_port_id, fip.fixed_ip_address, fip.router_id, fip.status = None, None, None, "DOWN"
            return
        port = session.get(models.Port, port_id)
        if port is None or not (
            port.project_id == fip.project_id or (ctx.is_admin and port.project_id == fip.project_id)
        ):
            raise not_found("Port", port_id)
        if port.device_owner.startswith("network:"):
            raise bad_request("BadRequest", f"Bad floatingip request: Port {port_id} is a router/network port.")
        v4 = [a.ip_address for a in port.fixed_ips if ipaddress.ip_address(a.ip_address).version == 4]
        if fixed is None:
            if not v4:
                raise bad_request(
                    "BadRequest", f"Bad floatingip request: Port {port_id} does not have any IPv4 addresses."
                )
            if len(v4) > 1:
                raise bad_request(
                    "BadRequest",
                    f"Port {port_id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when "
                    "assigning a floating IP",
                )
            fixed = v4[0]
        elif fixed not in v4:
            raise bad_request("BadRequest", f"Bad floatingip request: Port {port_id} does not have fixed ip {fixed}.")
        taken = session.scalars(
            sa.select(models.FloatingIP).where(
                models.FloatingIP.fixed_port_id == port_id,
                models.FloatingIP.fixed_ip_address == fixed,
                models.FloatingIP.id != fip.id,
            )
        ).first()
        if taken is not None:
            raise conflict(
                "FloatingIPPortAlreadyAssociated",
                f"Cannot associate floating IP {fip.floating_ip_address} ({fip.id}) with port {port_id} using "
                f"fixed IP {fixed}, as that fixed IP already has a floating IP on external network "
                f"{taken.floating_network_id}.",
            )
        fip.router_id = find_router(session, fip.floating_network_id, port, fixed)
        fip.fixed_port_id, fip.fixed_ip_address, fip.status = port_id, fixed, "ACTIVE"

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        attrs = parse("floatingip", body, create=True)
        project = owner_project(ctx, attrs)
        authorize(self.deps, ctx, "create_floatingip", {"project_id": project})
        fip_id = new_id()
        routers: list[str] = []

        def write() -> dict[str, Any]:
            with self.deps.db.session() as session:
                net = session.get(models.Network, attrs["floating_network_id"])
                if net is None or not (net.external or net.shared or ctx.is_admin or net.project_id == ctx.project_id):
                    raise not_found("Network", attrs["floating_network_id"])
                if not net.external:
                    raise bad_request(
                        "BadRequest",
                        f"Bad floatingip request: Network {net.id} is not a valid external network.",
                    )
                quotas.check(session, self.deps, project, "floatingip")
                fixed: list[dict[str, Any]] | None = None
                if attrs.get("floating_ip_address") or attrs.get("subnet_id"):
                    fixed = [{k: attrs.get(k) for k in ("subnet_id",) if attrs.get(k)}]
                    if attrs.get("floating_ip_address"):
                        fixed[0]["ip_address"] = attrs["floating_ip_address"]
                port = make_port(
                    session,
                    self.deps,
                    net.id,
                    project_id="",
                    device_owner=FIP_OWNER,
                    device_id=fip_id,
                    fixed_ips=fixed,
                    only_v4=True,
                )
                if not port.fixed_ips:
                    raise bad_request("BadRequest", f"Bad floatingip request: No IPv4 subnet on network {net.id}.")
                fip = models.FloatingIP(
                    id=fip_id,
                    project_id=project,
                    description=attrs.get("description", ""),
                    floating_network_id=net.id,
                    floating_port_id=port.id,
                    floating_ip_address=port.fixed_ips[0].ip_address,
                )
                session.add(fip)
                session.flush()
                self._associate(session, ctx, fip, attrs.get("port_id"), attrs.get("fixed_ip_address"))
                session.flush()
                routers[:] = [fip.router_id] if fip.router_id else []
                return views.floating_ip(fip)

        def clash(err: Exception) -> Exception | None:
            if attrs.get("floating_ip_address") and macs.is_ip_clash(err):
                return conflict(
                    "IpAddressAlreadyAllocated", f"IP address {attrs['floating_ip_address']} already allocated."
                )
            return None

        doc = retry_on_conflict(write, clash)
        for router_id in routers:
            self.deps.dataplane.router(router_id)
        return doc

    def show(self, ctx: RequestContext, fip_id: str) -> dict[str, Any]:
        with self.deps.db.reader() as session:
            return views.floating_ip(lookup.owned(session, ctx, models.FloatingIP, "FloatingIP", fip_id))

    def list(self, ctx: RequestContext, params: Any = ()) -> list[dict[str, Any]]:
        with self.deps.db.reader() as session:
            query = sa.select(models.FloatingIP)
            if not ctx.is_admin:
                query = query.where(models.FloatingIP.project_id == ctx.project_id)
            return [views.floating_ip(f) for f in session.scalars(query)]

    def update(self, ctx: RequestContext, fip_id: str, body: Any) -> dict[str, Any]:
        attrs = parse("floatingip", body, create=False)
        routers: set[str] = set()
        with self.deps.db.session() as session:
            fip = lookup.owned(session, ctx, models.FloatingIP, "FloatingIP", fip_id)
            authorize(self.deps, ctx, "update_floatingip", {"project_id": fip.project_id})
            if fip.router_id:
                routers.add(fip.router_id)
            if "description" in attrs:
                fip.description = attrs["description"]
            if "port_id" in attrs:
                self._associate(session, ctx, fip, attrs["port_id"], attrs.get("fixed_ip_address"))
            elif "fixed_ip_address" in attrs:
                self._associate(session, ctx, fip, fip.fixed_port_id, attrs["fixed_ip_address"])
            fip.revision_number += 1
            session.flush()
            if fip.router_id:
                routers.add(fip.router_id)
            doc = views.floating_ip(fip)
        for router_id in routers:
            self.deps.dataplane.router(router_id)
        return doc

    def delete(self, ctx: RequestContext, fip_id: str) -> None:
        with self.deps.db.session() as session:
            fip = lookup.owned(session, ctx, models.FloatingIP, "FloatingIP", fip_id)
            authorize(self.deps, ctx, "delete_floatingip", {"project_id": fip.project_id})
            router_id, port_id = fip.router_id, fip.floating_port_id
            session.delete(fip)
            session.flush()
            port = session.get(models.Port, port_id)
            if port is not None:
                session.delete(port)
        if router_id:
            self.deps.dataplane.router(router_id)
