"""Networking v2.0 calls the dashboard makes (each list is one call, filtered by the API, never N+1)."""

from __future__ import annotations

from typing import Any

from stratus.dashboard.api.base import ServiceApi


class Network(ServiceApi):
    service = "network"

    def _list(self, path: str, key: str, **filters: Any) -> list[dict[str, Any]]:
        return self._call("GET", f"/v2.0/{path}", params=filters)[key]  # type: ignore[no-any-return]

    def _create(self, path: str, key: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", f"/v2.0/{path}", json={key: fields})[key]  # type: ignore[no-any-return]

    def _update(self, path: str, key: str, fields: dict[str, Any]) -> dict[str, Any]:
        return self._call("PUT", f"/v2.0/{path}", json={key: fields})[key]  # type: ignore[no-any-return]

    # networks and subnets

    def networks(self, **filters: Any) -> list[dict[str, Any]]:
        return self._list("networks", "networks", **filters)

    def external_networks(self) -> list[dict[str, Any]]:
        return self.networks(**{"router:external": "true"})

    def create_network(self, name: str) -> dict[str, Any]:
        return self._create("networks", "network", {"name": name, "admin_state_up": True})

    def delete_network(self, network_id: str) -> None:
        self._call("DELETE", f"/v2.0/networks/{self._seg(network_id)}")

    def subnets(self, **filters: Any) -> list[dict[str, Any]]:
        return self._list("subnets", "subnets", **filters)

    def create_subnet(
        self, network_id: str, name: str, cidr: str, gateway_ip: str | None, enable_dhcp: bool
    ) -> dict[str, Any]:
        version = 6 if ":" in cidr else 4
        fields: dict[str, Any] = {"network_id": network_id, "name": name, "cidr": cidr, "ip_version": version}
        fields["enable_dhcp"] = enable_dhcp
        if gateway_ip:
            fields["gateway_ip"] = gateway_ip
        return self._create("subnets", "subnet", fields)

    # ports

    def ports(self, **filters: Any) -> list[dict[str, Any]]:
        return self._list("ports", "ports", **filters)

    # routers

    def routers(self, **filters: Any) -> list[dict[str, Any]]:
        return self._list("routers", "routers", **filters)

    def router(self, router_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v2.0/routers/{self._seg(router_id)}")["router"]  # type: ignore[no-any-return]

    def create_router(self, name: str, external_network_id: str | None) -> dict[str, Any]:
        fields: dict[str, Any] = {"name": name, "admin_state_up": True}
        if external_network_id:
            fields["external_gateway_info"] = {"network_id": external_network_id}
        return self._create("routers", "router", fields)

    def set_gateway(self, router_id: str, external_network_id: str | None) -> dict[str, Any]:
        info = {"network_id": external_network_id} if external_network_id else {}
        return self._update(f"routers/{self._seg(router_id)}", "router", {"external_gateway_info": info})

    def add_interface(self, router_id: str, subnet_id: str) -> None:
        self._call("PUT", f"/v2.0/routers/{self._seg(router_id)}/add_router_interface", json={"subnet_id": subnet_id})

    def remove_interface(self, router_id: str, subnet_id: str) -> None:
        self._call(
            "PUT", f"/v2.0/routers/{self._seg(router_id)}/remove_router_interface", json={"subnet_id": subnet_id}
        )

    def delete_router(self, router_id: str) -> None:
        self._call("DELETE", f"/v2.0/routers/{self._seg(router_id)}")

    # floating IPs

    def floating_ips(self, **filters: Any) -> list[dict[str, Any]]:
        return self._list("floatingips", "floatingips", **filters)

    def allocate_floating_ip(self, network_id: str, port_id: str | None = None) -> dict[str, Any]:
        fields: dict[str, Any] = {"floating_network_id": network_id}
        if port_id:
            fields["port_id"] = port_id
        return self._create("floatingips", "floatingip", fields)

    def associate(self, fip_id: str, port_id: str | None) -> dict[str, Any]:
        """Point the floating IP at ``port_id`` (None disassociates)."""
        return self._update(f"floatingips/{self._seg(fip_id)}", "floatingip", {"port_id": port_id})

    def release_floating_ip(self, fip_id: str) -> None:
        self._call("DELETE", f"/v2.0/floatingips/{self._seg(fip_id)}")

    # security groups

    def security_groups(self, **filters: Any) -> list[dict[str, Any]]:
        return self._list("security-groups", "security_groups", **filters)

    def security_group(self, sg_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v2.0/security-groups/{self._seg(sg_id)}")["security_group"]  # type: ignore[no-any-return]

    def create_security_group(self, name: str, description: str) -> dict[str, Any]:
        return self._create("security-groups", "security_group", {"name": name, "description": description})

    def delete_security_group(self, sg_id: str) -> None:
        self._call("DELETE", f"/v2.0/security-groups/{self._seg(sg_id)}")

    def create_rule(self, fields: dict[str, Any]) -> dict[str, Any]:
        return self._create("security-group-rules", "security_group_rule", fields)

    def delete_rule(self, rule_id: str) -> None:
        self._call("DELETE", f"/v2.0/security-group-rules/{self._seg(rule_id)}")

    # quotas

    def quota_details(self, project_id: str) -> dict[str, Any]:
        """``{resource: {"limit", "used", "reserved"}}``."""
        return self._call("GET", f"/v2.0/quotas/{self._seg(project_id)}/details")["quota"]  # type: ignore[no-any-return]
