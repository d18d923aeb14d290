"""The port-binding step of a server build, behind a small interface.

The network service comes later; until then ``NoNetwork`` accepts ``auto`` / ``none`` and
explicit requests (stored on the instance as ``requested_networks``) and yields no addresses.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Protocol

from stratus.compute.core.base import is_uuid
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest


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
    """What a server build needs of the network service."""

    def validate(self, ctx: RequestContext, requested: Any, count: int) -> None:
        """Raise BadRequest if the requested networks/ports cannot be used by ``count`` servers."""
        ...

    def network_info(self, ctx: RequestContext, instance_uuid: str) -> list[dict[str, Any]]:
        """The ports bound to an instance with their addresses (what ``addresses`` shows)."""
        ...


class NoNetwork:
    """No network service configured: accept the request, bind nothing, show no addresses."""

    def validate(self, ctx: RequestContext, requested: Any, count: int) -> None:
        return None

    def network_info(self, ctx: RequestContext, instance_uuid: str) -> list[dict[str, Any]]:
        return []
