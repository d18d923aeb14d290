"""Routers: external gateway (SNAT), interfaces by subnet or port, extra routes."""

from __future__ import annotations

import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.core.context import RequestContext
from stratus.network import models
from stratus.network.core import lookup, macs, quotas, views
from stratus.network.core.attributes import HOST_ROUTE, parse, uuid_str
from stratus.network.core.base import Deps, authorize, new_id, owner_project, retry_on_conflict
from stratus.network.core.routerports import GATEWAY_OWNER, INTERFACE_OWNER, interfaces, make_port
from stratus.network.errors import NeutronBadRequest, bad_request, conflict, not_found


def _gw_port(session: Session, router: models.Router) -> models.Port | None:
    return session.get(models.Port, router.gw_port_id) if router.gw_port_id else None


class RouterManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _view(self, session: Session, router: models.Router) -> dict[str, Any]:
        return views.router(router, _gw_port(session, router))

    def _set_gateway(self, session: Session, ctx: RequestContext, router: models.Router, info: dict | None) -> None:
        """Replace the router's gateway with ``info`` (None or {} clears it)."""
        current = _gw_port(session, router)
        if info and current is not None and info.get("network_id") == current.network_id:
            if "enable_snat" in info:
                router.enable_snat = info["enable_snat"]
            if "external_fixed_ips" not in info:
                return
        if "external_fixed_ips" in (info or {}):
            authorize(self.deps, ctx, "router:external_fixed_ips", {"project_id": router.project_id})
        if current is not None:
            in_use = session.scalar(
                sa.select(sa.func.count())
                .select_from(models.FloatingIP)
                .where(models.FloatingIP.router_id == router.id)
            )
            if in_use:
                raise conflict(
                    "RouterExternalGatewayInUseByFloatingIp",
                    f"Gateway cannot be updated for router {router.id}, since a gateway to external network "
                    f"{current.network_id} is required by one or more floating IPs.",
                )
            router.gw_port_id = None
            session.flush()
            session.delete(current)
            session.flush()
        if not info or not info.get("network_id"):
            return
        net = session.get(models.Network, info["network_id"])
        if net is None or not (net.external or ctx.is_admin or net.project_id == ctx.project_id or net.shared):
            raise not_found("Network", info["network_id"])
        if not net.external:
            raise bad_request("BadRequest", f"Bad router request: Network {net.id} is not an external network.")
        port = make_port(
            session,
            self.deps,
            net.id,
            project_id="",
            device_owner=GATEWAY_OWNER,
            device_id=router.id,
            fixed_ips=info.get("external_fixed_ips"),
            only_v4="external_fixed_ips" not in info,  # asked-for addresses may be IPv6 too (as Neutron)
        )
        if not port.fixed_ips:
            raise bad_request("BadRequest", f"Bad router request: No IPv4 subnet on external network {net.id}.")
        router.gw_port_id = port.id
        router.enable_snat = info.get("enable_snat", True)

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        attrs = parse("router", body, create=True)
        project = owner_project(ctx, attrs)
        authorize(self.deps, ctx, "create_router", {"project_id": project})
        router_id = new_id()

        def write() -> dict[str, Any]:
            with self.deps.db.session() as session:
                quotas.check(session, self.deps, project, "router")
                router = models.Router(
                    id=router_id,
                    project_id=project,
                    name=attrs.get("name", ""),
                    description=attrs.get("description", ""),
                    admin_state_up=attrs.get("admin_state_up", True),
                )
                session.add(router)
                session.flush()
                self._set_gateway(session, ctx, router, attrs.get("external_gateway_info"))
                session.flush()
                return self._view(session, router)

        doc = retry_on_conflict(write, self._ip_clash)
        self.deps.dataplane.router(router_id, with_ports=True)
        return doc

    @staticmethod
    def _ip_clash(err: Exception) -> Exception | None:
        """A lost race for a gateway address: retry (an explicitly asked-for one is checked before)."""
        return None

    def show(self, ctx: RequestContext, router_id: str) -> dict[str, Any]:
        with self.deps.db.reader() as session:
            return self._view(session, lookup.owned(session, ctx, models.Router, "Router", router_id))

    def list(self, ctx: RequestContext, params: Any = ()) -> list[dict[str, Any]]:
        with self.deps.db.reader() as session:
            query = sa.select(models.Router)
            if not ctx.is_admin:
                query = query.where(models.Router.project_id == ctx.project_id)
            return [self._view(session, r) for r in session.scalars(query)]

    def update(self, ctx: RequestContext, router_id: str, body: Any) -> dict[str, Any]:
        attrs = parse("router", body, create=False) if not _only_routes(body) else _routes_attrs(body)

        def write() -> dict[str, Any]:
            with self.deps.db.session() as session:
                router = lookup.owned(session, ctx, models.Router, "Router", router_id)
                authorize(self.deps, ctx, "update_router", {"project_id": router.project_id})
                for key in ("name", "description", "admin_state_up"):
                    if key in attrs:
                        setattr(router, key, attrs[key])
                if "external_gateway_info" in attrs:
                    self._set_gateway(session, ctx, router, attrs["external_gateway_info"])
                if "routes" in attrs:
                    router.routes = self._check_routes(session, router, attrs["routes"])
                router.revision_number += 1
                session.flush()
                return self._view(session, router)

        doc = retry_on_conflict(write, self._ip_clash)
        self.deps.dataplane.router(router_id, with_ports=True)
        return doc

    def _check_routes(self, session: Session, router: models.Router, routes: list[dict[str, str]]) -> list[dict]:
        cidrs = []
        ports = interfaces(session, router.id)
        gw = _gw_port(session, router)
        for port in ports + ([gw] if gw else []):
            for alloc in port.fixed_ips:
                subnet = session.get(models.Subnet, alloc.subnet_id)
                if subnet is not None:
                    cidrs.append(ipaddress.ip_network(subnet.cidr))
        out = []
        for route in routes:
            hop = ipaddress.ip_address(route["nexthop"])
            if not any(hop in c for c in cidrs):
                raise bad_request(
                    "InvalidRoutes",
                    f"Invalid format for routes: {route}, the nexthop is not connected with router",
                )
            entry = {"destination": route["destination"], "nexthop": route["nexthop"]}
            if entry not in out:
                out.append(entry)
        return out

    def delete(self, ctx: RequestContext, router_id: str) -> None:
        with self.deps.db.session() as session:
            router = lookup.owned(session, ctx, models.Router, "Router", router_id)
            authorize(self.deps, ctx, "delete_router", {"project_id": router.project_id})
            if interfaces(session, router_id):
                raise conflict("RouterInUse", f"Router {router_id} still has ports")
            gw = _gw_port(session, router)
            gw_id = gw.id if gw else None
            router.gw_port_id = None
            session.flush()
            if gw is not None:
                session.delete(gw)
            session.delete(router)
        if gw_id:
            self.deps.dataplane.port_deleted(gw_id)
        self.deps.dataplane.router(router_id)

    # interfaces

    def add_interface(self, ctx: RequestContext, router_id: str, body: Any) -> dict[str, Any]:
        subnet_id, port_id = _interface_body(body)
        if subnet_id and port_id:
            raise NeutronBadRequest("Bad router request: Cannot specify both subnet-id and port-id.")
        result: dict[str, Any] = {}

        def write() -> dict[str, Any]:
            with self.deps.db.session() as session:
                router = lookup.owned(session, ctx, models.Router, "Router", router_id)
                authorize(self.deps, ctx, "add_router_interface", {"project_id": router.project_id})
                if port_id:
                    port = self._adopt_port(session, ctx, router, port_id)
                else:
                    port = self._subnet_port(session, ctx, router, subnet_id)
                self._check_overlap(session, router, port)
                session.flush()
                result["port_id"] = port.id
                return _interface_info(router, port)

        def clash(err: Exception) -> Exception | None:
            if subnet_id and macs.is_ip_clash(err):
                return conflict("IpAddressAlreadyAllocated", f"The gateway IP of subnet {subnet_id} is in use.")
            return None

        info = retry_on_conflict(write, clash)
        self.deps.dataplane.port(result["port_id"])
        self.deps.dataplane.router(router_id)
        return info

    def _adopt_port(self, session: Session, ctx: RequestContext, router: models.Router, port_id: str) -> models.Port:
        port = lookup.owned(session, ctx, models.Port, "Port", port_id)
        if port.device_id or port.device_owner:
            raise conflict(
                "PortInUse",
                f"Unable to complete operation on port {port_id} for network "
                f"{port.network_id}. Port already has an attached device {port.device_id}.",
            )
        if not port.fixed_ips:
            raise bad_request(
                "BadRequest", f"Bad router request: Router port {port_id} must have at least one fixed IP."
            )
        port.device_id, port.device_owner = router.id, INTERFACE_OWNER
        port.security_groups = []
        port.port_security_enabled = False
        return port

    def _subnet_port(self, session: Session, ctx: RequestContext, router: models.Router, subnet_id: str) -> models.Port:
        subnet = lookup.subnet(session, ctx, subnet_id)
        net = session.get(models.Network, subnet.network_id)
        if not ctx.is_admin and net is not None and net.project_id != ctx.project_id and not net.shared:
            raise not_found("Subnet", subnet_id)
        if not subnet.gateway_ip:
            raise bad_request("BadRequest", f"Bad router request: Subnet {subnet_id} does not have a gateway IP.")
        for port in interfaces(session, router.id):
            if any(a.subnet_id == subnet_id for a in port.fixed_ips):
                raise bad_request("BadRequest", f"Bad router request: Router already has a port on subnet {subnet_id}.")
        return make_port(
            session,
            self.deps,
            subnet.network_id,
            project_id=router.project_id,
            device_owner=INTERFACE_OWNER,
            device_id=router.id,
            fixed_ips=[{"subnet_id": subnet_id, "ip_address": subnet.gateway_ip}],
        )

    def _check_overlap(self, session: Session, router: models.Router, new: models.Port) -> None:
        new_cidrs = [ipaddress.ip_network(session.get(models.Subnet, a.subnet_id).cidr) for a in new.fixed_ips]
        for port in interfaces(session, router.id):
            if port.id == new.id:
                continue
            for alloc in port.fixed_ips:
                cidr = ipaddress.ip_network(session.get(models.Subnet, alloc.subnet_id).cidr)
                if any(c.version == cidr.version and c.overlaps(cidr) for c in new_cidrs):
                    raise bad_request(
                        "BadRequest",
                        f"Bad router request: Cidr {cidr} of subnet {alloc.subnet_id} overlaps with cidr of a "
                        "subnet already attached to the router.",
                    )

    def remove_interface(self, ctx: RequestContext, router_id: str, body: Any) -> dict[str, Any]:
        subnet_id, port_id = _interface_body(body)
        with self.deps.db.session() as session:
            router = lookup.owned(session, ctx, models.Router, "Router", router_id)
            authorize(self.deps, ctx, "remove_router_interface", {"project_id": router.project_id})
            ports = interfaces(session, router_id)
            if port_id:
                port = next((p for p in ports if p.id == port_id), None)
                if port is None:
                    err = not_found("RouterInterface", router_id)
                    err.message = f"Router {router_id} does not have an interface with id {port_id}"
                    raise err
                if subnet_id and not any(a.subnet_id == subnet_id for a in port.fixed_ips):
                    raise conflict("SubnetMismatchForPort", f"Subnet {subnet_id} does not match port {port_id}.")
            else:
                port = next((p for p in ports if any(a.subnet_id == subnet_id for a in p.fixed_ips)), None)
                if port is None:
                    lookup.subnet(session, ctx, subnet_id)
                    err = not_found("RouterInterfaceNotFoundForSubnet", router_id)
                    err.message = f"Router {router_id} has no interface on subnet {subnet_id}"
                    err.type = "RouterInterfaceNotFoundForSubnet"  # type: ignore[attr-defined]
                    raise err
            self._check_fips(session, router_id, port)
            info = _interface_info(router, port)
            session.delete(port)
        self.deps.dataplane.port_deleted(info["port_id"])
        self.deps.dataplane.router(router_id)
        return info

    def _check_fips(self, session: Session, router_id: str, port: models.Port) -> None:
        subnet_ids = {a.subnet_id for a in port.fixed_ips}
        fips = session.scalars(sa.select(models.FloatingIP).where(models.FloatingIP.router_id == router_id))
        for fip in fips:
            fixed = session.get(models.Port, fip.fixed_port_id) if fip.fixed_port_id else None
            if fixed is not None and any(a.subnet_id in subnet_ids for a in fixed.fixed_ips):
                raise conflict(
                    "RouterInterfaceInUseByFloatingIP",
                    f"Router interface for subnet {sorted(subnet_ids)[0]} on router {router_id} cannot be deleted, "
                    "as it is required by one or more floating IPs.",
                )


def _only_routes(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("router"), dict) and "routes" in body["router"]


def _routes_attrs(body: dict[str, Any]) -> dict[str, Any]:
    rest = {k: v for k, v in body["router"].items() if k != "routes"}
    attrs = parse("router", {"router": rest}, create=False) if rest else {}
    routes = body["router"]["routes"]
    if routes is None:
        routes = []
    if not isinstance(routes, list):
        raise NeutronBadRequest(f"Invalid input for routes. Reason: '{routes}' is not a list.")
    attrs["routes"] = [HOST_ROUTE("routes", r) for r in routes]
    return attrs


def _interface_body(body: Any) -> tuple[str | None, str | None]:
    if not isinstance(body, dict):
        raise NeutronBadRequest("Bad router request: Either subnet_id or port_id must be specified.")
    unknown = set(body) - {"subnet_id", "port_id"}
    if unknown:
        raise NeutronBadRequest(f"Bad router request: Unrecognized attribute(s) '{', '.join(sorted(unknown))}'")
    subnet_id = uuid_str("subnet_id", body["subnet_id"]) if body.get("subnet_id") else None
    port_id = uuid_str("port_id", body["port_id"]) if body.get("port_id") else None
    if not subnet_id and not port_id:
        raise NeutronBadRequest("Bad router request: Either subnet_id or port_id must be specified.")
    return subnet_id, port_id


def _interface_info(router: models.Router, port: models.Port) -> dict[str, Any]:
    subnet_ids = [a.subnet_id for a in port.fixed_ips]
    return {
        "id": router.id,
        "tenant_id": router.project_id,
        "project_id": router.project_id,
        "port_id": port.id,
        "network_id": port.network_id,
        "subnet_id": subnet_ids[0] if subnet_ids else None,
        "subnet_ids": subnet_ids,
    }
