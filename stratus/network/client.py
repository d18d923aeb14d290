"""A small typed client of the Networking v2.0 API for other services (compute binds ports with it).

Errors come back as :class:`NetworkClientError` carrying the HTTP status and Neutron's error ``type``
(``PortNotFound``, ``IpAddressGenerationFailure``, ...), so callers can branch on either.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

_UNSET: Any = object()

UNAVAILABLE_RETRY_SECONDS = 30.0
"""How long a call keeps trying while the network API answers 503 (its database restarting)."""
_MAX_RETRY_AFTER = 5.0


class NetworkClientError(Exception):
    """The network API refused a call."""

    def __init__(self, status: int, kind: str, message: str):
        super().__init__(f"{status} {kind}: {message}")
        self.status = status
        self.type = kind
        self.message = message


def _check(resp: httpx.Response) -> Any:
    if resp.status_code >= 400:
        try:
            body = resp.json().get("NeutronError") or {}
        except ValueError:
            body = {}
        raise NetworkClientError(resp.status_code, body.get("type", "HTTPError"), body.get("message", resp.text))
    return resp.json() if resp.content else None


def _retry_after(resp: httpx.Response) -> float | None:
    if resp.status_code != 503:
        return None
    try:
        return min(max(float(resp.headers.get("Retry-After", "1")), 0.1), _MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


class NetworkClient:
    """``base_url`` is the network endpoint from the catalog (``http://host:9696``)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        client: httpx.Client | None = None,
    ):
        self._token = token
        self._own = client is None
        self._http = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def close(self) -> None:
        if self._own:
            self._http.close()

    def __enter__(self) -> NetworkClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """One API call; a 503 (nothing was done) is tried again after its Retry-After, for a while."""
        deadline = time.monotonic() + UNAVAILABLE_RETRY_SECONDS
        while True:
            resp = self._http.request(method, path, headers={"X-Auth-Token": self._token}, **kwargs)
            wait = _retry_after(resp)
            if wait is None or time.monotonic() + wait > deadline:
                return _check(resp)
            time.sleep(wait)  # as the server asks, bounded by the deadline

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Any call of the API (the parsed JSON body, None when empty); NetworkClientError on a 4xx/5xx.

        For callers that proxy the API as a whole (the compute API's Nova network proxies)."""
        return self._call(method, path, **kwargs)

    # ports

    def create_port(
        self,
        network_id: str,
        device_id: str = "",
        *,
        device_owner: str = "",
        name: str = "",
        fixed_ips: list[dict[str, str]] | None = None,
        security_groups: list[str] | None = None,
        host_id: str | None = None,
        mac_address: str | None = None,
        project_id: str | None = None,
    ) -> dict[str, Any]:
        port: dict[str, Any] = {"network_id": network_id, "device_id": device_id, "device_owner": device_owner}
        if name:
            port["name"] = name
        for key, value in (
            ("fixed_ips", fixed_ips),
            ("security_groups", security_groups),
            ("binding:host_id", host_id),
            ("mac_address", mac_address),
            ("project_id", project_id),
        ):
            if value is not None:
                port[key] = value
        return self._call("POST", "/v2.0/ports", json={"port": port})["port"]  # type: ignore[no-any-return]

    def get_port(self, port_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v2.0/ports/{port_id}")["port"]  # type: ignore[no-any-return]

    def list_ports(self, *, device_id: str | None = None, network_id: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("device_id", device_id), ("network_id", network_id)) if v is not None}
        return self._call("GET", "/v2.0/ports", params=params)["ports"]  # type: ignore[no-any-return]

    def update_port(
        self, port_id: str, *, host_id: str | None = _UNSET, device_id: str = _UNSET, device_owner: str = _UNSET
    ) -> dict[str, Any]:
        """Change only the attributes given (``host_id=""`` unbinds)."""
        changes = {
            k: v
            for k, v in (("binding:host_id", host_id), ("device_id", device_id), ("device_owner", device_owner))
            if v is not _UNSET
        }
        return self._call("PUT", f"/v2.0/ports/{port_id}", json={"port": changes})["port"]  # type: ignore[no-any-return]

    def delete_port(self, port_id: str, *, missing_ok: bool = True) -> None:
        try:
            self._call("DELETE", f"/v2.0/ports/{port_id}")
        except NetworkClientError as err:
            if not (missing_ok and err.status == 404):
                raise

    # networks

    def list_networks(self, **filters: str) -> list[dict[str, Any]]:
        return self._call("GET", "/v2.0/networks", params=filters)["networks"]  # type: ignore[no-any-return]

    def list_security_groups(self, **filters: str) -> list[dict[str, Any]]:
        return self._call("GET", "/v2.0/security-groups", params=filters)["security_groups"]  # type: ignore[no-any-return]

    def show_network(self, network_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v2.0/networks/{network_id}")["network"]  # type: ignore[no-any-return]


AGENT_TOPIC = "network-agent.{host}"
"""Bus topic the network agent of one host serves (``plug_vif`` / ``unplug_vif``)."""


class NetworkAgentClient:
    """Asks the network agent of ``host`` over the bus to plug or unplug a VIF (the compute agent's side).

    ``plug_vif`` returns once the tap exists and sits on the integration bridge with
    ``external_ids:iface-id=<port_id>``; whether OVN has bound it is told later by the
    ``network-vif-plugged`` event the network service sends to compute.
    """

    def __init__(self, bus: Any, host: str, *, timeout: float = 60.0):
        self._bus = bus
        self._topic = AGENT_TOPIC.format(host=host)
        self._timeout = timeout

    def plug_vif(self, *, port_id: str, network_id: str, mac_address: str, devname: str, mtu: int) -> None:
        self._bus.call(
            self._topic,
            "plug_vif",
            timeout=self._timeout,
            port_id=port_id,
            network_id=network_id,
            mac_address=mac_address,
            devname=devname,
            mtu=mtu,
        )

    def unplug_vif(self, *, port_id: str, devname: str) -> None:
        self._bus.call(self._topic, "unplug_vif", timeout=self._timeout, port_id=port_id, devname=devname)
