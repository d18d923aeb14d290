"""The compute API's side of networking: checks a create request's networks as the user, as Nova does.

``validate`` runs in the request with the USER's token, so a server can only join networks and
ports its project may use: unknown network -> 400, unknown port -> 400, port bound elsewhere -> 409,
more than one candidate for "auto" -> 409. It returns what the instance stores as
``requested_networks``: "auto" resolved to the one usable network, or "none" when there is none
(this cloud has no auto-allocated topology; the server then boots without a NIC, as Nova before
2.37 did). The conductor binds the ports later with a service token (``stratus.compute.ports``).
"""

from __future__ import annotations

from typing import Any

import httpx

from stratus.compute.ports import (
    InstancePorts,
    SecurityGroupAmbiguous,
    SecurityGroupNotFound,
    security_group_ids,
    usable_networks,
)
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, Conflict, Forbidden, ServiceUnavailable
from stratus.network.client import NetworkClient, NetworkClientError

AMBIGUOUS = "More than one possible network found. Specify network ID(s) to select which one(s) to connect to."


class NetworkApiBinder:
    """A ``NetworkBinder`` backed by the network API at ``network_url``."""

    def __init__(
        self,
        network_url: str,
        *,
        transport: httpx.BaseTransport | None = None,
        ports: InstancePorts | None = None,
    ):
        self.network_url = network_url
        self._transport = transport
        self._ports = ports

    def _client(self, ctx: RequestContext) -> NetworkClient:
        return NetworkClient(self.network_url, ctx.token or "", transport=self._transport)

    def user_client(self, ctx: RequestContext) -> NetworkClient | None:
        return self._client(ctx)

    def validate(
        self, ctx: RequestContext, requested: Any, count: int, security_groups: list[dict[str, Any]] | None = None
    ) -> Any:
        try:
            with self._client(ctx) as client:
                self._check_security_groups(ctx, client, security_groups)
                if requested == "none":
                    return "none"
                if requested == "auto":
                    return self._auto(ctx, client)
                for req in requested:
                    if req.get("port"):
                        self._check_port(client, req["port"], count)
                    else:
                        self._check_network(client, req["uuid"], req.get("fixed_ip"), count)
                return requested
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"The network service is unreachable: {exc}") from None

    @staticmethod
    def _check_security_groups(ctx: RequestContext, client: NetworkClient, groups: list[dict[str, Any]] | None) -> None:
        """Each named group exists in the user's project (Nova: 400 SecurityGroupNotFoundForProject)."""
        try:
            security_group_ids(groups, ctx.project_id or "", lambda: _or_unavailable(client.list_security_groups))
        except SecurityGroupNotFound as exc:
            raise BadRequest(str(exc)) from None
        except SecurityGroupAmbiguous as exc:
            raise Conflict(str(exc)) from None

    def _auto(self, ctx: RequestContext, client: NetworkClient) -> Any:
        usable = usable_networks(_or_unavailable(client.list_networks), ctx.project_id or "")
        if len(usable) > 1:
            raise Conflict(AMBIGUOUS)
        return [{"uuid": usable[0]["id"]}] if usable else "none"

    @staticmethod
    def _check_port(client: NetworkClient, port_id: str, count: int) -> None:
        if count > 1:
            raise BadRequest(
                "Unable to launch multiple instances with a single configured port ID. "
                "Please launch your instance one by one with different ports."
            )
        try:
            port = client.get_port(port_id)
        except NetworkClientError as exc:
            if exc.status in (403, 404):
                raise BadRequest(f"Port id {port_id} could not be found.") from None
            raise ServiceUnavailable(f"The network service answered {exc.status}: {exc.message}") from None
        if port.get("device_id"):
            raise Conflict(f"Port {port_id} is still in use.")

    @staticmethod
    def _check_network(client: NetworkClient, network_id: str, fixed_ip: str | None, count: int) -> None:
        if fixed_ip and count > 1:
            raise BadRequest("max_count cannot be greater than 1 if an fixed_ip is specified.")
        try:
            network = client.show_network(network_id)
        except NetworkClientError as exc:
            if exc.status in (403, 404):
                raise BadRequest(f"Network {network_id} could not be found.") from None
            raise ServiceUnavailable(f"The network service answered {exc.status}: {exc.message}") from None
        if network.get("router:external") and not network.get("shared"):
            raise Forbidden(f"It is not allowed to create an interface on external network {network_id}")
        if not network.get("subnets"):
            raise BadRequest(f"Network {network_id} requires a subnet in order to boot instances on.")

    def release(self, ctx: RequestContext, instance_uuid: str, network_info: list[dict[str, Any]]) -> None:
        """Release the ports of a server deleted without a host to do it (the conductor's job otherwise)."""
        if self._ports is not None and network_info:
            self._ports.release(instance_uuid, network_info)

    def ports(self, ctx: RequestContext, instance_uuid: str) -> list[dict[str, Any]]:
        try:
            with self._client(ctx) as client:
                return _or_unavailable(lambda: client.list_ports(device_id=instance_uuid))  # type: ignore[no-any-return]
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"The network service is unreachable: {exc}") from None


def _or_unavailable(fn: Any) -> Any:
    try:
        return fn()
    except NetworkClientError as exc:
        raise ServiceUnavailable(f"The network service answered {exc.status}: {exc.message}") from None
