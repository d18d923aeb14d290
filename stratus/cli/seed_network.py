"""First-run networks of the all-in-one cloud, as devstack makes them.

- ``public``: a flat external network on physnet ``public`` whose gateway address the host itself
  holds on the external bridge (``[network_agent] external_cidr``), so floating IPs answer the host;
- for the demo project: ``private`` with ``private-subnet`` and ``router1``, whose gateway is on
  ``public`` (SNAT), so a demo server on ``private`` is reachable through a floating IP.

Everything is created through the network API (admin for ``public``, the demo user for the rest),
exactly as a user would, and only when missing, so a later start changes nothing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

import httpx

from stratus.cli.seed import project_token

PUBLIC = "public"
PRIVATE = "private"
PRIVATE_CIDR = "10.0.0.0/24"
ROUTER = "router1"


def ensure_networks(
    network_url: str,
    identity_url: str,
    *,
    admin_password: str,
    demo_password: str,
    external_cidr: str,
    physnet: str,
    report: Callable[[str], None],
) -> None:
    admin = _client(network_url, project_token(identity_url, "admin", admin_password, "admin"))
    demo = _client(network_url, project_token(identity_url, "demo", demo_password, "demo"))
    with admin, demo:
        public = _find(admin, "networks", PUBLIC, **{"router:external": "true"})
        if public is None:
            report(f"creating the external network {PUBLIC} ({external_cidr} via the host)")
            public = _create(
                admin,
                "network",
                {
                    "name": PUBLIC,
                    "router:external": True,
                    "provider:network_type": "flat",
                    "provider:physical_network": physnet,
                },
            )
        if not public["subnets"]:
            host = ipaddress.ip_interface(external_cidr)
            hosts = list(host.network.hosts())
            _create(
                admin,
                "subnet",
                {
                    "name": f"{PUBLIC}-subnet",
                    "network_id": public["id"],
                    "ip_version": 4,
                    "cidr": str(host.network),
                    "gateway_ip": str(host.ip),
                    "enable_dhcp": False,
                    "allocation_pools": [{"start": str(hosts[9]), "end": str(hosts[-1])}],
                },
            )
        private = _find(demo, "networks", PRIVATE)
        if private is None:
            report(f"creating the demo project's network {PRIVATE} ({PRIVATE_CIDR}) and {ROUTER}")
            private = _create(demo, "network", {"name": PRIVATE})
        if not private["subnets"]:
            subnet = _create(
                demo,
                "subnet",
                {"name": f"{PRIVATE}-subnet", "network_id": private["id"], "ip_version": 4, "cidr": PRIVATE_CIDR},
            )
        else:
            subnet = {"id": private["subnets"][0]}
        router = _find(demo, "routers", ROUTER)
        if router is None:
            router = _create(demo, "router", {"name": ROUTER, "external_gateway_info": {"network_id": public["id"]}})
            _call(demo, "PUT", f"/v2.0/routers/{router['id']}/add_router_interface", {"subnet_id": subnet["id"]})


def _client(url: str, token: str) -> httpx.Client:
    return httpx.Client(base_url=url.rstrip("/"), headers={"X-Auth-Token": token}, timeout=60)


def _call(
    http: httpx.Client, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
) -> Any:
    resp = http.request(method, path, json=body, params=params)
    if resp.status_code >= 400:
        raise RuntimeError(f"network API {method} {path} answered {resp.status_code}: {resp.text[:300]}")
    return resp.json() if resp.content else None


def _find(http: httpx.Client, collection: str, name: str, **filters: str) -> dict[str, Any] | None:
    found = _call(http, "GET", f"/v2.0/{collection}", params={"name": name, **filters})[collection]
    return found[0] if found else None


def _create(http: httpx.Client, kind: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return _call(http, "POST", f"/v2.0/{kind}s", {kind: attrs})[kind]  # type: ignore[no-any-return]
