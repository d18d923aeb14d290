"""Nova's deprecated network proxies: os-floating-ips, os-floating-ip-pools, os-networks, os-tenant-networks.

Nova answers them by calling neutron with the user's token (``nova/network/neutron.py``); so do we, through
the network API client the compute service's binder hands out. They exist only up to microversion 2.35,
and the calls that managed nova-network networks answer 410 Gone, as Nova's do.
"""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING, Any

from stratus.compute.core.base import is_uuid
from stratus.compute.core.network_calls import NOT_FOUND, user_network
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, Conflict, Forbidden, NotFound
from stratus.network.client import NetworkClient, NetworkClientError

if TYPE_CHECKING:
    from stratus.compute.service import ComputeService

MAX_PROXY_VERSION = "2.35"
"""The last microversion with the proxies; Nova answers 404 from 2.36 on."""
GONE = "This resource is no longer available.  No forwarding address is given."
"""webob's explanation of HTTPGone, the message Nova's removed nova-network calls give."""

_NETWORK_FIELDS = ("id", "cidr", "netmask", "gateway", "broadcast", "dns1", "dns2", "cidr_v6", "gateway_v6")
_NETWORK_FIELDS += ("label", "netmask_v6")
_NETWORK_ADMIN_FIELDS = (
    "created_at updated_at deleted_at deleted injected bridge vlan vpn_public_address vpn_public_port "
    "vpn_private_address dhcp_start project_id host bridge_interface multi_host priority rxtx_base mtu "
    "dhcp_server enable_dhcp share_address"
).split()


def check_version(version: Any) -> None:
    """404 past 2.35, as Nova's proxies answer once nova-network was gone."""
    if version >= "2.36":
        raise NotFound(NOT_FOUND)


def enforce(service: ComputeService, ctx: RequestContext, rule: str, project_id: str | None = None) -> None:
    service.enforcer.enforce(ctx, f"os_compute_api:{rule}", {"project_id": project_id or ctx.project_id})


def _external_networks(client: NetworkClient) -> list[dict[str, Any]]:
    nets = client.request("GET", "/v2.0/networks", params={"router:external": "True"})["networks"]
    return [n for n in nets if n.get("router:external")]


# floating IPs


def _floating_ip_view(client: NetworkClient, fip: dict[str, Any], pools: dict[str, str]) -> dict[str, Any]:
    """Nova's view: the pool is the external network's name, the instance the device of the port it is on."""
    instance_id = None
    if fip.get("port_id"):
        try:
            port = client.request("GET", f"/v2.0/ports/{fip['port_id']}")["port"]
            instance_id = port.get("device_id") or None
        except NetworkClientError as err:
            if err.status != 404:
                raise
    net_id = fip["floating_network_id"]
    return {
        "id": fip["id"],
        "ip": fip["floating_ip_address"],
        "pool": pools.get(net_id) or net_id,
        "fixed_ip": fip.get("fixed_ip_address"),
        "instance_id": instance_id,
    }


def _pool_names(client: NetworkClient) -> dict[str, str]:
    return {n["id"]: n.get("name") or n["id"] for n in _external_networks(client)}


def _get_floating_ip(client: NetworkClient, fip_id: str) -> dict[str, Any]:
    try:
        return client.request("GET", f"/v2.0/floatingips/{fip_id}")["floatingip"]  # type: ignore[no-any-return]
    except NetworkClientError as err:
        if err.status in (400, 404):
            raise NotFound(f"Floating IP not found for ID {fip_id}") from None
        raise


def list_floating_ips(service: ComputeService, ctx: RequestContext) -> list[dict[str, Any]]:
    """The floating IPs of the caller's project (an admin sees only its own too, as in Nova)."""
    enforce(service, ctx, "os-floating-ips:list")
    with user_network(service.deps.network, ctx) as client:
        fips = client.request("GET", "/v2.0/floatingips", params={"project_id": ctx.project_id})["floatingips"]
        pools = _pool_names(client) if fips else {}
        return [
            _floating_ip_view(client, f, pools) for f in fips if f.get("project_id", ctx.project_id) == ctx.project_id
        ]


def show_floating_ip(service: ComputeService, ctx: RequestContext, fip_id: str) -> dict[str, Any]:
    enforce(service, ctx, "os-floating-ips:show")
    with user_network(service.deps.network, ctx) as client:
        return _floating_ip_view(client, _get_floating_ip(client, fip_id), _pool_names(client))


def _find_pool(client: NetworkClient, pool: str | None) -> dict[str, Any]:
    """The external network named (or with the id) ``pool``; the first external network without one."""
    nets = _external_networks(client)
    if pool is not None:
        nets = [n for n in nets if (n["id"] == pool if is_uuid(pool) else n.get("name") == pool)]
        if len(nets) > 1:
            raise Conflict(f"Multiple floating IP pools matches found for name '{pool}'")
    if not nets:
        raise NotFound("Floating IP pool not found.")
    return nets[0]


def create_floating_ip(service: ComputeService, ctx: RequestContext, body: Any) -> dict[str, Any]:
    """Allocate a floating IP from ``pool`` (an external network) or the first external network."""
    enforce(service, ctx, "os-floating-ips:create")
    if body is not None and not isinstance(body, dict):
        raise BadRequest(f"Invalid input for field/attribute body. Value: {body!r}. Not a JSON object")
    pool = (body or {}).get("pool")
    if pool is not None and not isinstance(pool, str):
        raise BadRequest(f"Invalid input for field/attribute pool. Value: {pool!r}. {pool!r} is not of type 'string'")
    with user_network(service.deps.network, ctx) as client:
        net = _find_pool(client, pool)
        try:
            fip = client.request("POST", "/v2.0/floatingips", json={"floatingip": {"floating_network_id": net["id"]}})
        except NetworkClientError as err:
            if err.type in ("IpAddressGenerationFailure", "ExternalIpAddressExhausted"):
                raise NotFound(
                    f"No more floating IPs in pool {pool}." if pool else "No more floating IPs available."
                ) from None
            if err.type == "OverQuota":
                raise Forbidden(
                    f"IP allocation over quota in pool {pool}." if pool else "IP allocation over quota."
                ) from None
            raise
        return _floating_ip_view(client, fip["floatingip"], {net["id"]: net.get("name") or net["id"]})


def delete_floating_ip(service: ComputeService, ctx: RequestContext, fip_id: str) -> None:
    """Release a floating IP (disassociating it first, which the network API does on delete)."""
    enforce(service, ctx, "os-floating-ips:delete")
    with user_network(service.deps.network, ctx) as client:
        fip = _get_floating_ip(client, fip_id)
        try:
            client.request("DELETE", f"/v2.0/floatingips/{fip_id}")
        except NetworkClientError as err:
            if err.status == 404:
                raise NotFound(f"Floating IP not found for address {fip['floating_ip_address']}.") from None
            raise


def list_pools(service: ComputeService, ctx: RequestContext) -> list[dict[str, Any]]:
    enforce(service, ctx, "os-floating-ip-pools:list")
    with user_network(service.deps.network, ctx) as client:
        return [{"name": n.get("name") or n["id"]} for n in _external_networks(client)]


# server actions addFloatingIp / removeFloatingIp (microversions up to 2.43; the caller checks that)


def _address(args: Any, key: str, *, required: bool) -> str | None:
    value = args.get(key)
    if value is None and not required:
        return None
    try:
        ipaddress.ip_address(value)
    except (ValueError, TypeError):
        if value is None:
            raise BadRequest(f"Invalid input for field/attribute {key}. '{key}' is a required property") from None
        raise BadRequest(
            f"Invalid input for field/attribute {key}. Value: {value}. {value!r} is not a valid IP address"
        ) from None
    return str(value)


def _check_args(args: Any, allowed: set[str]) -> None:
    if not isinstance(args, dict):
        raise BadRequest(f"Invalid input for field/attribute body. Value: {args!r}. Not a JSON object")
    extra = sorted(set(args) - allowed)
    if extra:
        raise BadRequest(f"Additional properties are not allowed ({', '.join(map(repr, extra))} was unexpected)")


def _floating_ip_by_address(client: NetworkClient, address: str, message: str) -> dict[str, Any]:
    fips = client.request("GET", "/v2.0/floatingips", params={"floating_ip_address": address})["floatingips"]
    fips = [f for f in fips if f["floating_ip_address"] == address]
    if not fips:
        raise NotFound(message)
    if len(fips) > 1:
        raise Conflict(f"Multiple floating IPs are found for address {address}.")
    return fips[0]


def add_floating_ip(service: ComputeService, ctx: RequestContext, server_id: str, args: Any) -> None:
    """``addFloatingIp``: put the floating IP ``address`` on the server's port holding ``fixed_address``
    (else its first IPv4 address), checked as Nova checks it."""
    rec = service.servers.show(ctx, server_id)
    enforce(service, ctx, "os-floating-ips:add", rec.inst.project_id)
    _check_args(args, {"address", "fixed_address"})
    address = _address(args, "address", required=True)
    fixed_address = _address(args, "fixed_address", required=False)
    with user_network(service.deps.network, ctx) as client:
        ports = client.request("GET", "/v2.0/ports", params={"device_id": server_id})["ports"]
        if not ports:
            raise BadRequest("Instance network is not ready yet")
        fixed = [(p["id"], ip["ip_address"]) for p in ports for ip in p.get("fixed_ips", [])]
        if not fixed:
            raise BadRequest("No fixed IPs associated to instance")
        if fixed_address is not None:
            chosen = next((f for f in fixed if f[1] == fixed_address), None)
            if chosen is None:
                raise BadRequest("Specified fixed address not assigned to instance")
        else:
            chosen = next((f for f in fixed if ipaddress.ip_address(f[1]).version == 4), None)
            if chosen is None:
                raise BadRequest(
                    f"Unable to associate floating IP {address} to any fixed IPs for instance {server_id}. "
                    "Instance has no fixed IPv4 addresses to associate."
                )
        fip = _floating_ip_by_address(client, str(address), "floating IP not found")
        change = {"floatingip": {"port_id": chosen[0], "fixed_ip_address": chosen[1]}}
        try:
            client.request("PUT", f"/v2.0/floatingips/{fip['id']}", json=change)
        except NetworkClientError as err:
            if err.status == 403:
                raise Forbidden(err.message) from None
            if err.status == 409:
                raise BadRequest(err.message) from None
            raise BadRequest(
                f"Unable to associate floating IP {address} to fixed IP {chosen[1]} for instance {server_id}. "
                f"Error: {err.message}"
            ) from None


def remove_floating_ip(service: ComputeService, ctx: RequestContext, server_id: str, args: Any) -> None:
    """``removeFloatingIp``: take the floating IP ``address`` off the server; 409 when it is not on it."""
    rec = service.servers.show(ctx, server_id)
    enforce(service, ctx, "os-floating-ips:remove", rec.inst.project_id)
    _check_args(args, {"address"})
    address = str(_address(args, "address", required=True))
    with user_network(service.deps.network, ctx) as client:
        fip = _floating_ip_by_address(client, address, f"Floating IP not found for address {address}.")
        instance_id = None
        if fip.get("port_id"):
            try:
                instance_id = client.request("GET", f"/v2.0/ports/{fip['port_id']}")["port"].get("device_id")
            except NetworkClientError as err:
                if err.status != 404:
                    raise
        if instance_id != server_id:
            raise Conflict(f"Floating IP {address} is not associated with instance {server_id}.")
        client.request("PUT", f"/v2.0/floatingips/{fip['id']}", json={"floatingip": {"port_id": None}})


# networks


def _network_view(ctx: RequestContext, net: dict[str, Any]) -> dict[str, Any]:
    """Nova's neutron view: the id and the name as label; the nova-network fields, admin ones included, null."""
    fields = _NETWORK_FIELDS + tuple(_NETWORK_ADMIN_FIELDS) if ctx.is_admin else _NETWORK_FIELDS
    view: dict[str, Any] = dict.fromkeys(fields)
    view["id"], view["label"] = net["id"], net.get("name")
    return view


def _get_network(client: NetworkClient, network_id: str) -> dict[str, Any]:
    try:
        return client.request("GET", f"/v2.0/networks/{network_id}")["network"]  # type: ignore[no-any-return]
    except NetworkClientError as err:
        if err.status in (400, 404):
            raise NotFound("Network not found") from None
        raise


def list_networks(service: ComputeService, ctx: RequestContext) -> list[dict[str, Any]]:
    enforce(service, ctx, "os-networks:list")
    with user_network(service.deps.network, ctx) as client:
        return [_network_view(ctx, n) for n in client.request("GET", "/v2.0/networks")["networks"]]


def show_network(service: ComputeService, ctx: RequestContext, network_id: str) -> dict[str, Any]:
    enforce(service, ctx, "os-networks:view")
    with user_network(service.deps.network, ctx) as client:
        return _network_view(ctx, _get_network(client, network_id))


def _tenant_view(net: dict[str, Any], cidrs: dict[str, str]) -> dict[str, Any]:
    """Nova's view; the cidr is the first subnet's ("None" without one, the string Nova gives)."""
    cidr = next((cidrs[s] for s in net.get("subnets", []) if s in cidrs), None)
    return {"id": net["id"], "cidr": str(cidr), "label": net.get("name")}


def _subnet_cidrs(client: NetworkClient) -> dict[str, str]:
    return {s["id"]: s["cidr"] for s in client.request("GET", "/v2.0/subnets")["subnets"]}


def list_tenant_networks(service: ComputeService, ctx: RequestContext) -> list[dict[str, Any]]:
    enforce(service, ctx, "os-tenant-networks:list")
    with user_network(service.deps.network, ctx) as client:
        nets = client.request("GET", "/v2.0/networks")["networks"]
        cidrs = _subnet_cidrs(client) if nets else {}
        return [_tenant_view(n, cidrs) for n in nets]


def show_tenant_network(service: ComputeService, ctx: RequestContext, network_id: str) -> dict[str, Any]:
    enforce(service, ctx, "os-tenant-networks:show")
    with user_network(service.deps.network, ctx) as client:
        return _tenant_view(_get_network(client, network_id), _subnet_cidrs(client))
