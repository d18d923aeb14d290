"""Compute v2.1 calls the dashboard makes. One list call per page: flavors come embedded in servers (2.47+)."""

from __future__ import annotations

import base64
from typing import Any

from stratus.dashboard.api.base import ApiError, ServiceApi

MICROVERSION = "2.79"
"""Embedded flavors (2.47), tags, and hypervisor usage fields (dropped only at 2.88)."""

TRANSITIONAL = {"BUILD", "REBOOT", "HARD_REBOOT", "REBUILD", "RESIZE", "MIGRATING", "PASSWORD", "DELETING"}


def is_transitional(server: dict[str, Any]) -> bool:
    """Whether a server's state is about to change on its own (the list keeps polling while one is)."""
    return server.get("status") in TRANSITIONAL or bool(server.get("OS-EXT-STS:task_state"))


class Compute(ServiceApi):
    service = "compute"
    headers = {"OpenStack-API-Version": f"compute {MICROVERSION}"}

    # servers

    def servers(self, *, all_projects: bool = False, limit: int = 1000, **filters: str) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, **filters}
        if all_projects:
            params["all_tenants"] = "1"
        return self._call("GET", "/servers/detail", params=params)["servers"]  # type: ignore[no-any-return]

    def server(self, server_id: str) -> dict[str, Any]:
        body = self._call("GET", f"/servers/{self._seg(server_id)}")
        if not isinstance(body, dict) or "server" not in body:  # ``detail`` is a list, not a server
            raise ApiError(self.service, 404, f"Instance {server_id} could not be found.")
        return body["server"]  # type: ignore[no-any-return]

    def create_server(
        self,
        *,
        name: str,
        image_id: str,
        flavor_id: str,
        networks: list[str] | str,
        key_name: str = "",
        security_groups: list[str] | None = None,
        user_data: str = "",
    ) -> dict[str, Any]:
        """Boot one server. ``networks`` is a list of network ids, or ``"auto"`` / ``"none"``."""
        server: dict[str, Any] = {"name": name, "imageRef": image_id, "flavorRef": flavor_id}
        server["networks"] = networks if isinstance(networks, str) else [{"uuid": n} for n in networks]
        if key_name:
            server["key_name"] = key_name
        if security_groups:
            server["security_groups"] = [{"name": sg} for sg in security_groups]
        if user_data:
            server["user_data"] = base64.b64encode(user_data.encode()).decode()
        return self._call("POST", "/servers", json={"server": server})["server"]  # type: ignore[no-any-return]

    def action(self, server_id: str, action: str) -> None:
        """``stop``, ``start``, ``reboot`` (soft) or ``delete``."""
        if action == "delete":
            self._call("DELETE", f"/servers/{self._seg(server_id)}")
            return
        bodies = {"stop": {"os-stop": None}, "start": {"os-start": None}, "reboot": {"reboot": {"type": "SOFT"}}}
        self._call("POST", f"/servers/{self._seg(server_id)}/action", json=bodies[action])

    def console_log(self, server_id: str, length: int = 200) -> str:
        body = {"os-getConsoleOutput": {"length": length}}
        return str(self._call("POST", f"/servers/{self._seg(server_id)}/action", json=body)["output"])

    # flavors, key pairs, limits, hypervisors

    def flavors(self, *, all_visibility: bool = False) -> list[dict[str, Any]]:
        params = {"is_public": "None"} if all_visibility else {}
        return self._call("GET", "/flavors/detail", params=params)["flavors"]  # type: ignore[no-any-return]

    def create_flavor(self, name: str, vcpus: int, ram: int, disk: int) -> dict[str, Any]:
        body = {"flavor": {"name": name, "vcpus": vcpus, "ram": ram, "disk": disk}}
        return self._call("POST", "/flavors", json=body)["flavor"]  # type: ignore[no-any-return]

    def delete_flavor(self, flavor_id: str) -> None:
        self._call("DELETE", f"/flavors/{self._seg(flavor_id)}")

    def keypairs(self) -> list[dict[str, Any]]:
        return [k["keypair"] for k in self._call("GET", "/os-keypairs")["keypairs"]]

    def import_keypair(self, name: str, public_key: str) -> dict[str, Any]:
        body = {"keypair": {"name": name, "public_key": public_key, "type": "ssh"}}
        return self._call("POST", "/os-keypairs", json=body)["keypair"]  # type: ignore[no-any-return]

    def delete_keypair(self, name: str) -> None:
        self._call("DELETE", f"/os-keypairs/{self._seg(name)}")

    def limits(self) -> dict[str, Any]:
        return self._call("GET", "/limits")["limits"]["absolute"]  # type: ignore[no-any-return]

    def hypervisors(self) -> list[dict[str, Any]]:
        return self._call("GET", "/os-hypervisors/detail")["hypervisors"]  # type: ignore[no-any-return]
