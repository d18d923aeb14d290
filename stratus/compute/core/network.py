"""The networks of a create request, and what the compute API needs of the network service.

``parse_requested`` checks the shape of ``networks``; a ``NetworkBinder`` checks them against the
network service (``network_binder.NetworkApiBinder`` when ``[compute] network_url`` is set, else
``NoNetwork``, which accepts them and binds nothing). The conductor binds the ports
(``stratus.compute.ports``).
"""

from __future__ import annotations

import ipaddress
from typing import Any, Protocol

from stratus.compute.core.base import is_uuid
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest
from stratus.network.client import NetworkClient


def parse_requested(networks: Any, *, required: bool) -> Any:
    """Validate the ``networks`` of a create request: "auto", "none" or a list; returns what to store."""
    if networks is None:
        if required:
            raise BadRequest("Invalid input for field/attribute server. 'networks' is a required property")
        return "auto"
    if networks in ("auto", "none"):
        return networks
    if not isinstance(networks, list):
        raise BadRequest(f"Invalid input for field/attribute networks. Value: {networks!r}.")
    requested = []
    for net in networks:
        if (
            not isinstance(net, dict)
            or not ({"uuid", "port"} & set(net))
            or set(net) - {"uuid", "port", "fixed_ip", "tag"}
        ):
            raise BadRequest(f"Invalid input for field/attribute networks. Value: {net!r}.")
        if "port" in net and net["port"] is not None and not is_uuid(net["port"]):
            raise BadRequest(f"Bad networks format: port uuid ({net['port']}) is not in proper format")
        if "uuid" in net and not is_uuid(net["uuid"]):
            raise BadRequest(f"Bad networks format: network uuid ({net['uuid']}) is not in proper format")
        if "fixed_ip" in net:
            try:
                ipaddress.ip_address(net["fixed_ip"])
            except (ValueError, TypeError):
                raise BadRequest(f"Invalid fixed IP address ({net['fixed_ip']})") from None
        requested.append({k: net[k] for k in ("uuid", "port", "fixed_ip", "tag") if net.get(k) is not None})
    return requested


class NetworkBinder(Protocol):
    """What the compute API needs of the network service (``network_binder.NetworkApiBinder``)."""

    def validate(
        self, ctx: RequestContext, requested: Any, count: int, security_groups: list[dict[str, Any]] | None = None
    ) -> Any:
        """Check with the user's token that ``count`` servers may use the requested networks/ports and groups.

        Returns what the instances store as ``requested_networks`` ("auto" resolved). Raises BadRequest
        (unknown network, port or security group), Conflict (port in use, ambiguous "auto" or group name)
        or Forbidden.
        """
        ...

    def release(self, ctx: RequestContext, instance_uuid: str, network_info: list[dict[str, Any]]) -> None:
        """Delete/unbind the ports of a server the API deletes itself (no host to ask). Never raises."""
        ...

    def ports(self, ctx: RequestContext, instance_uuid: str) -> list[dict[str, Any]]:
        """The network API's ports of a server, as the user sees them (``os-interface``)."""
        ...

    def user_client(self, ctx: RequestContext) -> NetworkClient | None:
        """A network API client acting with the user's token (close it after use); None without a network
        service. For the Nova network proxies (os-security-groups, os-floating-ips, os-networks, ...)."""
        ...


class NoNetwork:
    """No network service configured: accept the request, bind nothing, show no addresses."""

    def validate(
        self, ctx: RequestContext, requested: Any, count: int, security_groups: list[dict[str, Any]] | None = None
    ) -> Any:
        return requested

    def release(self, ctx: RequestContext, instance_uuid: str, network_info: list[dict[str, Any]]) -> None:
        return None

    def ports(self, ctx: RequestContext, instance_uuid: str) -> list[dict[str, Any]]:
        return []

    def user_client(self, ctx: RequestContext) -> NetworkClient | None:
        return None
