"""Networks: tenant (Geneve) and provider (flat / VLAN) networks, shared and external flags."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from stratus.core.context import RequestContext
from stratus.network import models
from stratus.network.core import lookup, quotas, views
from stratus.network.core.attributes import parse
from stratus.network.core.base import Deps, authorize, new_id, owner_project, retry_on_conflict
from stratus.network.errors import bad_request, conflict

NETWORK_TYPES = ("geneve", "vxlan", "flat", "vlan")
MAX_VNI = 16777215


class NetworkManager:
    def __init__(self, deps: Deps):
        self.deps = deps

    def _authorize_create(self, ctx: RequestContext, attrs: dict[str, Any], project: str) -> None:
        authorize(self.deps, ctx, "create_network", {"project_id": project})
        if attrs.get("shared"):
            authorize(self.deps, ctx, "create_network:shared", {"project_id": project})
        if attrs.get("router:external"):
            authorize(self.deps, ctx, "create_network:router:external", {"project_id": project})
        if any(k.startswith("provider:") for k in attrs):
            authorize(self.deps, ctx, "network:provider", {"project_id": project})

    def _segment(self, session: Any, attrs: dict[str, Any]) -> tuple[str, str, int]:
        """(network_type, physical_network or "", segmentation_id) for a new network."""
        kind = attrs.get("provider:network_type") or self.deps.conf.tenant_network_type
        physnet = attrs.get("provider:physical_network")
        seg = attrs.get("provider:segmentation_id")
        if kind not in NETWORK_TYPES:
            raise bad_request(
                "InvalidInput", f"Invalid input for operation: network_type value '{kind}' not supported."
            )
        if kind in ("flat", "vlan"):
            if not physnet:
                raise bad_request(
                    "InvalidInput",
                    f"Invalid input for operation: physical_network required for {kind} provider network.",
                )
            if physnet not in self.deps.conf.physnets:
                raise bad_request(
                    "InvalidInput",
                    f"Invalid input for operation: physical_network '{physnet}' unknown for {kind} provider network.",
                )
            if kind == "flat":
                if seg is not None:
                    raise bad_request(
                        "InvalidInput",
                        "Invalid input for operation: segmentation_id specified for flat provider network.",
                    )
                return kind, physnet, views.NO_SEGMENT
            if seg is None or not 1 <= seg <= 4094:
                raise bad_request(
                    "InvalidInput", "Invalid input for operation: segmentation_id out of range (1 through 4094)."
                )
            return kind, physnet, seg
        if physnet:
            raise bad_request(
                "InvalidInput", f"Invalid input for operation: provider:physical_network specified for {kind} network."
            )
        if seg is None:
            used = set(
                session.scalars(sa.select(models.Network.segmentation_id).where(models.Network.network_type == kind))
            )
            seg = next(v for v in range(1, MAX_VNI + 1) if v not in used)
        return kind, "", seg

    def create(self, ctx: RequestContext, body: Any) -> dict[str, Any]:
        attrs = parse("network", body, create=True)
        project = owner_project(ctx, attrs)
        self._authorize_create(ctx, attrs, project)
        net_id = new_id()

        def write() -> dict[str, Any]:
            with self.deps.db.session() as session:
                quotas.check(session, self.deps, project, "network")
                kind, physnet, seg = self._segment(session, attrs)
                max_mtu = self.deps.conf.physical_mtu if kind in ("flat", "vlan") else self.deps.conf.geneve_mtu
                mtu = attrs.get("mtu", max_mtu)
                if mtu > max_mtu:
                    raise bad_request(
                        "InvalidInput", f"Invalid input for operation: Requested MTU is too big, maximum is {max_mtu}."
                    )
                row = models.Network(
                    id=net_id,
                    project_id=project,
                    name=attrs.get("name", ""),
                    description=attrs.get("description", ""),
                    admin_state_up=attrs.get("admin_state_up", True),
                    shared=attrs.get("shared", False),
                    external=attrs.get("router:external", False),
                    port_security_enabled=attrs.get("port_security_enabled", True),
                    mtu=mtu,
                    network_type=kind,
                    physical_network=physnet,
                    segmentation_id=seg,
                )
                session.add(row)
                session.flush()
                session.refresh(row)
                return views.network(ctx, row)

        def clash(_err: Exception) -> Exception | None:
            if attrs.get("provider:network_type") == "flat":
                phys = attrs.get("provider:physical_network")
                return conflict(
                    "FlatNetworkInUse", f"Unable to create the flat network. Physical network {phys} is in use."
                )
            if attrs.get("provider:segmentation_id") is not None:
                return conflict("SegmentationIdInUse", "Unable to create the network. The VLAN/VNI is in use.")
            return None

        doc = retry_on_conflict(write, clash)
        self.deps.dataplane.network(net_id)
        return doc

    def show(self, ctx: RequestContext, network_id: str) -> dict[str, Any]:
        with self.deps.db.reader() as session:
            return views.network(ctx, lookup.network(session, ctx, network_id))

    def list(self, ctx: RequestContext, params: Any = ()) -> list[dict[str, Any]]:
        with self.deps.db.reader() as session:
            rows = session.scalars(sa.select(models.Network).where(lookup.network_visible_clause(ctx)))
            return [views.network(ctx, r) for r in rows]

    def update(self, ctx: RequestContext, network_id: str, body: Any) -> dict[str, Any]:
        attrs = parse("network", body, create=False)
        with self.deps.db.session() as session:
            row = lookup.network(session, ctx, network_id)
            authorize(self.deps, ctx, "update_network", {"project_id": row.project_id})
            if "shared" in attrs and attrs["shared"] != row.shared:
                authorize(self.deps, ctx, "update_network:shared", {"project_id": row.project_id})
            if "router:external" in attrs and attrs["router:external"] != row.external:
                authorize(self.deps, ctx, "update_network:router:external", {"project_id": row.project_id})
            if "mtu" in attrs:
                max_mtu = (
                    self.deps.conf.physical_mtu if row.network_type in ("flat", "vlan") else self.deps.conf.geneve_mtu
                )
                if attrs["mtu"] > max_mtu:
                    raise bad_request(
                        "InvalidInput", f"Invalid input for operation: Requested MTU is too big, maximum is {max_mtu}."
                    )
                row.mtu = attrs["mtu"]
            for key in ("name", "description", "admin_state_up", "shared", "port_security_enabled"):
                if key in attrs:
                    setattr(row, key, attrs[key])
            if "router:external" in attrs:
                row.external = attrs["router:external"]
            row.revision_number += 1
            session.flush()
            doc = views.network(ctx, row)
        self.deps.dataplane.network(network_id)
        return doc

    def delete(self, ctx: RequestContext, network_id: str) -> None:
        with self.deps.db.session() as session:
            row = lookup.network(session, ctx, network_id)
            authorize(self.deps, ctx, "delete_network", {"project_id": row.project_id})
            if not ctx.is_admin and row.project_id != ctx.project_id:
                raise lookup.not_found("Network", network_id)
            _delete_disassociated_floating_ips(session, network_id)
            ports = lookup.ports_of(session, network_id=network_id)
            busy = [p for p in ports if p.device_owner not in lookup.DHCP_OWNERS]
            if busy:
                raise conflict(
                    "NetworkInUse",
                    f"Unable to complete operation on network {network_id}. "
                    "There are one or more ports still in use on the network.",
                )
            port_ids = [p.id for p in ports]
            subnet_ids = [s.id for s in row.subnets]
            for port in ports:
                session.delete(port)
            session.flush()
            session.execute(sa.delete(models.Subnet).where(models.Subnet.network_id == network_id))
            session.delete(row)
        for port_id in port_ids:
            self.deps.dataplane.port_deleted(port_id)
        for subnet_id in subnet_ids:
            self.deps.dataplane.subnet(subnet_id)
        self.deps.dataplane.network(network_id)


def _delete_disassociated_floating_ips(session: Any, network_id: str) -> None:
    """Deleting an external network takes its unassociated floating IPs with it (Neutron's
    ``delete_disassociated_floatingips``); an associated one keeps its port, so the network stays in use."""
    query = sa.select(models.FloatingIP).where(
        models.FloatingIP.floating_network_id == network_id, models.FloatingIP.fixed_port_id.is_(None)
    )
    for fip in list(session.scalars(query)):
        port = session.get(models.Port, fip.floating_port_id)
        session.delete(fip)
        session.flush()
        if port is not None:
            session.delete(port)
    session.flush()
