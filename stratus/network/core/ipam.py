"""IP address management: default pools, validation, and picking free addresses.

Allocations are rows of ``ip_allocations`` keyed by (network_id, ip_address): a concurrent create
that picked the same address fails on commit and is retried with a fresh view (``retry_on_conflict``).
To keep such races rare the search for a free address starts at a random place in the pools.
"""

from __future__ import annotations

import ipaddress
import random
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from stratus.network import models
from stratus.network.errors import bad_request, conflict

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def net(cidr: str) -> IPNetwork:
    return ipaddress.ip_network(cidr, strict=False)


def usable_range(cidr: str) -> tuple[int, int]:
    """First and last assignable address (as ints): without network/broadcast for IPv4, without the
    subnet-router anycast address for IPv6."""
    n = net(cidr)
    first, last = int(n.network_address), int(n.broadcast_address)
    if n.version == 4 and n.prefixlen >= 31:
        return first, last
    return first + 1, last - 1 if n.version == 4 else last


def default_gateway(cidr: str) -> str | None:
    first, last = usable_range(cidr)
    return str(ipaddress.ip_address(first)) if first <= last else None


def default_pools(cidr: str, gateway: str | None) -> list[dict[str, str]]:
    """The whole usable range minus the gateway."""
    first, last = usable_range(cidr)
    version = net(cidr).version
    gw = int(ipaddress.ip_address(gateway)) if gateway else None
    ranges = [(first, last)]
    if gw is not None and first <= gw <= last:
        ranges = [(first, gw - 1), (gw + 1, last)]
    return [{"start": _ip(a, version), "end": _ip(b, version)} for a, b in ranges if a <= b]


def _ip(value: int, version: int) -> str:
    return str(ipaddress.IPv4Address(value) if version == 4 else ipaddress.IPv6Address(value))


def validate_pools(cidr: str, gateway: str | None, pools: list[dict[str, str]]) -> list[dict[str, str]]:
    """Pools must be inside the usable range, ordered, disjoint, and not hold the gateway."""
    first, last = usable_range(cidr)
    spans = []
    for pool in pools:
        start, end = ipaddress.ip_address(pool["start"]), ipaddress.ip_address(pool["end"])
        if start.version != net(cidr).version or end.version != net(cidr).version:
            raise bad_request("InvalidAllocationPool", f"The allocation pool {pool} is not valid.")
        if not (first <= int(start) <= last and first <= int(end) <= last):
            raise bad_request(
                "OutOfBoundsAllocationPool", f"The allocation pool {pool} spans beyond the subnet {cidr}."
            )
        if int(start) > int(end):
            raise bad_request("InvalidAllocationPool", f"The allocation pool {pool} is not valid.")
        spans.append((int(start), int(end)))
    spans.sort()
    for (_a, b), (c, _d) in zip(spans, spans[1:], strict=False):
        if c <= b:
            raise bad_request("OverlappingAllocationPools", f"Found overlapping allocation pools in subnet {cidr}.")
    if gateway:
        gw = int(ipaddress.ip_address(gateway))
        if any(a <= gw <= b for a, b in spans):
            raise conflict(
                "GatewayConflictWithAllocationPools",
                f"Gateway ip {gateway} conflicts with allocation pool {pools}.",
            )
    return [{"start": str(p["start"]), "end": str(p["end"])} for p in pools]


def _spans(subnet: models.Subnet) -> list[tuple[int, int]]:
    return [
        (int(ipaddress.ip_address(p["start"])), int(ipaddress.ip_address(p["end"]))) for p in subnet.allocation_pools
    ]


def used_addresses(session: Session, network_id: str) -> set[str]:
    query = sa.select(models.IPAllocation.ip_address).where(models.IPAllocation.network_id == network_id)
    return set(session.scalars(query))


def pick_free(subnet: models.Subnet, used: set[str], *, lowest: bool = False) -> str | None:
    """A free address of the subnet's pools, or None when exhausted.

    The search starts at a random place in the pools and wraps around (as Neutron's IPAM picks at
    random), so concurrent creates rarely collide and the cost does not grow with the ports made.
    ``lowest``: the first free address instead (the network's own metadata port, so it sits at a
    predictable place, usually .2, and never on an address a user is about to ask for)."""
    spans = _spans(subnet)
    total = sum(end - start + 1 for start, end in spans)
    if total == 0:
        return None
    offset = 0 if lowest else random.randrange(total)
    for step in range(total):
        position = (offset + step) % total
        for start, end in spans:
            size = end - start + 1
            if position < size:
                text = _ip(start + position, subnet.ip_version)
                if text not in used:
                    return text
                break
            position -= size
    return None


def in_subnet(address: str, subnet: models.Subnet) -> bool:
    ip = ipaddress.ip_address(address)
    return ip.version == subnet.ip_version and ip in net(subnet.cidr)


def check_assignable(address: str, subnet: models.Subnet) -> None:
    """An explicitly requested address must be inside the subnet and not its network/broadcast address."""
    first, last = usable_range(subnet.cidr)
    if not in_subnet(address, subnet) or not first <= int(ipaddress.ip_address(address)) <= last:
        raise bad_request("InvalidIpForSubnet", f"IP address {address} is not a valid IP for the specified subnet.")


def allocation_rows(
    session: Session, port: models.Port, subnets: list[models.Subnet], requested: list[dict[str, Any]] | None
) -> list[models.IPAllocation]:
    """IPAllocation rows for a port (not yet added to the session).

    ``requested`` None: one address from the first IPv4 subnet with room, plus one per IPv6 subnet.
    Otherwise each entry has a subnet_id and/or an ip_address (already checked to be on the network).
    """
    used = used_addresses(session, port.network_id)
    out: list[models.IPAllocation] = []

    def take(subnet: models.Subnet, address: str | None) -> None:
        if address is None:
            address = pick_free(subnet, used)
            if address is None:
                raise conflict(
                    "IpAddressGenerationFailure", f"No more IP addresses available on network {port.network_id}."
                )
        elif address in used:
            raise conflict(
                "IpAddressAlreadyAllocated",
                f"IP address {address} already allocated in subnet {subnet.id}",
            )
        used.add(address)
        out.append(
            models.IPAllocation(network_id=port.network_id, ip_address=address, subnet_id=subnet.id, port_id=port.id)
        )

    if requested is None:
        v4 = [s for s in subnets if s.ip_version == 4]
        chosen = next((s for s in v4 if pick_free(s, used) is not None), None)
        if v4 and chosen is None:
            raise conflict(
                "IpAddressGenerationFailure", f"No more IP addresses available on network {port.network_id}."
            )
        for subnet in ([chosen] if chosen else []) + [s for s in subnets if s.ip_version == 6]:
            take(subnet, None)
        return out
    by_id = {s.id: s for s in subnets}
    for entry in requested:
        take(by_id[entry["subnet_id"]], entry.get("ip_address"))
    return out


def resolve_requested(network_id: str, subnets: list[models.Subnet], fixed_ips: list[dict[str, Any]]) -> list[dict]:
    """Give every requested fixed IP its subnet; 400 for subnets not on the network or foreign addresses."""
    by_id = {s.id: s for s in subnets}
    out = []
    for entry in fixed_ips:
        subnet_id, address = entry.get("subnet_id"), entry.get("ip_address")
        if subnet_id is not None and subnet_id not in by_id:
            raise bad_request(
                "InvalidInput",
                f"Invalid input for operation: Failed to create port on network {network_id}, "
                f"because fixed_ips included invalid subnet {subnet_id}.",
            )
        if address is not None and subnet_id is None:
            subnet = next((s for s in subnets if in_subnet(address, s)), None)
            if subnet is None:
                raise bad_request(
                    "InvalidIpForNetwork",
                    f"IP address {address} is not a valid IP for any of the subnets on the network.",
                )
            subnet_id = subnet.id
        if subnet_id is None:
            raise bad_request("InvalidInput", "Invalid input for operation: fixed_ips needs a subnet_id or ip_address.")
        if address is not None:
            check_assignable(address, by_id[subnet_id])
        out.append({"subnet_id": subnet_id, "ip_address": address})
    return out
