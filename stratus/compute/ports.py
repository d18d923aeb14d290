"""The ports of a server, as the conductor binds and releases them (Nova's ``allocate_for_instance``).

Runs with the ``[service_auth]`` token against ``[compute] network_url``: after a host is claimed,
a port is created for each requested network (``device_id`` = the server, ``device_owner``
``compute:<zone>``, ``binding:host_id`` = the host, in the server's project) and each port the user
gave is bound the same way. The result is the instance's ``network_info`` (what ``addresses``, the
metadata service and the agent's ``VifSpec``s are made from). On delete, or a build that failed for
good, ports compute created are deleted and user-given ports are unbound (kept).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx

from stratus.compute.messages import VifSpec, tap_devname
from stratus.core.config import Config, ServiceAuthConfig
from stratus.core.service_auth import ServiceAuthError, ServiceTokens
from stratus.network.client import NetworkClient, NetworkClientError

LOG = logging.getLogger(__name__)
DEFAULT_MTU = 1442


class PortAllocationError(Exception):
    """The ports could not be bound; the message is fit for the server's fault."""


def usable_networks(networks: list[dict[str, Any]], project_id: str) -> list[dict[str, Any]]:
    """Networks a server of ``project_id`` may join without naming them: its own internal ones and shared ones."""
    own = [
        n
        for n in networks
        if n.get("project_id") == project_id and not n.get("shared") and not n.get("router:external")
    ]
    shared = [n for n in networks if n.get("shared")]
    return sorted(own + shared, key=lambda n: n["id"])


class SecurityGroupNotFound(Exception):
    def __init__(self, name: str, project_id: str):
        super().__init__(f"Security group {name} not found for project {project_id}.")


class SecurityGroupAmbiguous(Exception):
    def __init__(self, name: str):
        super().__init__(f"Multiple security groups found matching '{name}'. Use an ID to be more specific.")


def security_group_ids(
    requested: list[dict[str, Any]] | None, project_id: str, lookup: Callable[[], list[dict[str, Any]]]
) -> list[str] | None:
    """The ids of a server's security groups (given by name or id, as Nova accepts) among its project's.

    None when it asks for just ``default``: a port created without groups gets its project's default
    group, so nothing needs looking up. ``lookup`` lists the groups the caller can see.
    """
    names = [g.get("name") or "" for g in requested or []]
    if not names or names == ["default"]:
        return None
    groups = lookup()
    return list(dict.fromkeys(find_security_group(name, project_id, groups) for name in names))


def find_security_group(name: str, project_id: str, groups: list[dict[str, Any]]) -> str:
    """The id of the group of ``project_id`` called ``name`` (or with that id) among ``groups``."""
    ours = [g for g in groups if g.get("project_id") in (project_id, None)]
    matches = [g for g in ours if g["id"] == name] or [g for g in ours if g.get("name") == name]
    if not matches:
        raise SecurityGroupNotFound(name, project_id)
    if len(matches) > 1:
        raise SecurityGroupAmbiguous(name)
    return str(matches[0]["id"])


def client_error_message(exc: NetworkClientError, *, network_id: str = "", port_id: str = "", ip: str = "") -> str:
    """Nova's wording for what the network API refused."""
    if exc.type == "NetworkNotFound" or (exc.status == 404 and network_id and not port_id):
        return f"Network {network_id} could not be found."
    if exc.type == "PortNotFound" or (exc.status == 404 and port_id):
        return f"Port id {port_id} could not be found."
    if exc.type == "IpAddressGenerationFailure":
        return f"No fixed IP addresses available for network: {network_id}"
    if exc.type in ("IpAddressAlreadyAllocated", "IpAddressInUse"):
        return f"Fixed IP address {ip} is already in use."
    if exc.type == "OverQuota":
        return "Maximum number of ports exceeded."
    return f"The network service refused the port: {exc.message}"


def port_entry(port: dict[str, Any], network: dict[str, Any], *, preserve: bool) -> dict[str, Any]:
    """One ``network_info`` element for a bound port."""
    ips = [
        {
            "address": f["ip_address"],
            "version": 6 if ":" in f["ip_address"] else 4,
            "type": "fixed",
            "subnet_id": f.get("subnet_id"),
        }
        for f in port.get("fixed_ips") or []
    ]
    return {
        "port_id": port["id"],
        "network_id": port["network_id"],
        "network_label": network.get("name") or port["network_id"],
        "mac_address": port["mac_address"],
        "devname": tap_devname(port["id"]),
        "mtu": network.get("mtu") or DEFAULT_MTU,
        "vif_type": "ovs",
        "ips": ips,
        "preserve_on_delete": preserve,
        "active": port.get("status") == "ACTIVE",
    }


def vif_specs(network_info: list[dict[str, Any]]) -> list[VifSpec]:
    """What the agent plugs, from ``network_info``."""
    return [
        VifSpec(
            port_id=p["port_id"],
            network_id=p["network_id"],
            mac_address=p["mac_address"],
            fixed_ips=[{"ip_address": ip["address"], "subnet_id": ip.get("subnet_id")} for ip in p.get("ips", [])],
            mtu=int(p.get("mtu") or DEFAULT_MTU),
            vif_type=p.get("vif_type", "ovs"),
            devname=p.get("devname") or tap_devname(p["port_id"]),
            active=bool(p.get("active")),
        )
        for p in network_info
    ]


class InstancePorts:
    """Binds and releases the ports of servers with a service token (see the module docstring)."""

    def __init__(
        self,
        network_url: str,
        token_source: Callable[[], str],
        *,
        invalidate: Callable[[], None] | None = None,
        default_zone: str = "nova",
        transport: httpx.BaseTransport | None = None,
    ):
        self._url = network_url
        self._tokens = token_source
        self._invalidate = invalidate
        self._zone = default_zone
        self._transport = transport

    @classmethod
    def from_config(cls, config: Config, network_url: str | None, default_zone: str) -> InstancePorts | None:
        """Ports bound with the ``[service_auth]`` user; None when network_url or its password is unset."""
        auth = config.section("service_auth", ServiceAuthConfig)
        if not network_url or not auth.password:
            return None
        tokens = ServiceTokens(config.core.identity_url, auth)
        return cls(network_url, tokens.token, invalidate=tokens.invalidate, default_zone=default_zone)

    def _call(self, fn: Callable[[NetworkClient], Any]) -> Any:
        """Run ``fn`` with a client; on a 401 forget the token and try once more."""
        for attempt in (0, 1):
            try:
                token = self._tokens()
            except ServiceAuthError as exc:
                raise PortAllocationError(f"Could not authenticate to the network service: {exc.message}") from None
            try:
                with NetworkClient(self._url, token, transport=self._transport) as client:
                    return fn(client)
            except NetworkClientError as exc:
                if exc.status != 401 or attempt or self._invalidate is None:
                    raise
                self._invalidate()
            except httpx.HTTPError as exc:
                raise PortAllocationError(f"The network service is unreachable: {exc}") from None
        raise AssertionError("unreachable")

    # bind

    def allocate(
        self,
        *,
        instance_uuid: str,
        project_id: str,
        host: str,
        zone: str | None,
        requested: Any,
        security_groups: list[dict[str, Any]] | None = None,
    ) -> list[dict[str, Any]]:
        """Create or bind the ports of ``requested`` ("auto", "none" or the API's list) on ``host``.

        The ports it creates get the server's ``security_groups`` (ports the user gave keep theirs, as in
        Nova). Returns ``network_info``. On any failure the ports created so far are deleted, the ones
        bound are unbound, and PortAllocationError says why.
        """
        done: list[dict[str, Any]] = []
        try:
            wanted = self._resolve(project_id, requested)
            groups = self._group_ids(project_id, security_groups) if wanted else None
            for req in wanted:
                done.append(self._bind_one(instance_uuid, project_id, host, zone or self._zone, req, groups))
        except PortAllocationError:
            self.release(instance_uuid, done)
            raise
        except NetworkClientError as exc:
            self.release(instance_uuid, done)
            raise PortAllocationError(f"The network service refused the port: {exc.message}") from None
        return done

    def _resolve(self, project_id: str, requested: Any) -> list[dict[str, Any]]:
        if requested == "none" or requested is None:
            return []
        if requested == "auto":
            usable = usable_networks(self._call(lambda c: c.list_networks()), project_id)
            return [{"uuid": usable[0]["id"]}] if len(usable) == 1 else []
        return list(requested)

    def _group_ids(self, project_id: str, requested: list[dict[str, Any]] | None) -> list[str] | None:
        try:
            return security_group_ids(
                requested, project_id, lambda: self._call(lambda c: c.list_security_groups(project_id=project_id))
            )
        except (SecurityGroupNotFound, SecurityGroupAmbiguous) as exc:  # deleted since the API checked it
            raise PortAllocationError(str(exc)) from None

    def _bind_one(
        self,
        instance_uuid: str,
        project_id: str,
        host: str,
        zone: str,
        req: dict[str, Any],
        security_groups: list[str] | None = None,
    ) -> Any:
        owner = f"compute:{zone}"
        if req.get("port"):
            port_id = req["port"]
            try:
                port = self._call(lambda c: c.get_port(port_id))
                if port.get("device_id") not in ("", instance_uuid):
                    raise PortAllocationError(f"Port {port_id} is still in use.")
                port = self._call(
                    lambda c: c.update_port(port_id, host_id=host, device_id=instance_uuid, device_owner=owner)
                )
                network = self._call(lambda c: c.show_network(port["network_id"]))
            except NetworkClientError as exc:
                raise PortAllocationError(client_error_message(exc, port_id=port_id)) from None
            return port_entry(port, network, preserve=True)
        network_id, ip = req["uuid"], req.get("fixed_ip")
        try:
            network = self._call(lambda c: c.show_network(network_id))
            port = self._call(
                lambda c: c.create_port(
                    network_id,
                    instance_uuid,
                    device_owner=owner,
                    host_id=host,
                    project_id=project_id,
                    fixed_ips=[{"ip_address": ip}] if ip else None,
                    security_groups=security_groups,
                )
            )
        except NetworkClientError as exc:
            raise PortAllocationError(client_error_message(exc, network_id=network_id, ip=ip or "")) from None
        return port_entry(port, network, preserve=False)

    def rebind(self, network_info: list[dict[str, Any]], host: str) -> list[dict[str, Any]]:
        """Move the ports to ``host`` (a reschedule); returns the refreshed ``network_info``."""
        out = []
        for entry in network_info:
            try:
                port = self._call(lambda c, p=entry["port_id"]: c.update_port(p, host_id=host))
            except NetworkClientError as exc:
                raise PortAllocationError(client_error_message(exc, port_id=entry["port_id"])) from None
            out.append({**entry, "active": port.get("status") == "ACTIVE"})
        return out

    # release

    def release(self, instance_uuid: str, network_info: list[dict[str, Any]]) -> None:
        """Delete the ports compute made, unbind the user's (if still this server's). Never raises."""
        for entry in network_info:
            port_id = entry.get("port_id")
            if not port_id:
                continue
            try:
                if entry.get("preserve_on_delete"):
                    self._unbind(instance_uuid, port_id)
                else:
                    self._call(lambda c, p=port_id: c.delete_port(p))
            except Exception as exc:  # a port left behind is visible with device_id; never fail a delete
                LOG.warning("could not release port %s of %s: %s", port_id, instance_uuid, exc)

    def _unbind(self, instance_uuid: str, port_id: str) -> None:
        try:
            port = self._call(lambda c: c.get_port(port_id))
        except NetworkClientError as exc:
            if exc.status == 404:
                return
            raise
        if port.get("device_id") != instance_uuid:
            return  # already given to another server: not ours to unbind
        self._call(lambda c: c.update_port(port_id, host_id="", device_id="", device_owner=""))
