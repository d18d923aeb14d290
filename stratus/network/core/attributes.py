"""Request body validation, as Neutron's attribute map: which attributes a resource takes, their types.

``parse(resource, body, create=...)`` returns the validated attributes of ``{"<resource>": {...}}``;
anything unknown, mistyped or not settable is a 400 with Neutron's wording.
"""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stratus.network.errors import InvalidInput, NeutronBadRequest, bad_request

Validator = Callable[[str, Any], Any]


def _string(max_len: int = 255) -> Validator:
    def check(name: str, value: Any) -> Any:
        if not isinstance(value, str):
            raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a valid string.")
        if len(value) > max_len:
            raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' exceeds maximum length of {max_len}.")
        return value

    return check


def boolean(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a valid boolean value.")


def uuid_str(name: str, value: Any) -> str:
    try:
        return str(uuid.UUID(str(value))) if isinstance(value, str) else _bad_uuid(name, value)
    except ValueError:
        return _bad_uuid(name, value)


def _bad_uuid(name: str, value: Any) -> str:
    raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a valid UUID.")


def optional(validator: Validator) -> Validator:
    def check(name: str, value: Any) -> Any:
        return None if value is None else validator(name, value)

    return check


def integer(lo: int, hi: int) -> Validator:
    def check(name: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not an integer.")
        try:
            number = int(value)
        except ValueError:
            raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not an integer.") from None
        if not lo <= number <= hi:
            raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not in range {lo} through {hi}.")
        return number

    return check


def port_value(_name: str, value: Any) -> int | None:
    """A security group rule's port bound (Neutron's ``convert_validate_port_value``): None or 0..65535."""
    if value is None:
        return None
    try:
        number = int(value) if not isinstance(value, bool | float) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not 0 <= number <= 65535:
        raise bad_request("SecurityGroupInvalidPortValue", f"Invalid value for port {value}")
    return number


def ip_address(name: str, value: Any) -> str:
    try:
        return str(ipaddress.ip_address(value)) if isinstance(value, str) else _bad_ip(name, value)
    except ValueError:
        return _bad_ip(name, value)


def _bad_ip(name: str, value: Any) -> str:
    raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a valid IP address.")


def cidr(name: str, value: Any) -> str:
    if not isinstance(value, str) or "/" not in value:
        raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a valid IP subnet.")
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a valid IP subnet.") from None


def ip_prefix(name: str, value: Any) -> str:
    """A security group rule's remote prefix as Neutron keeps it: as given (host bits and all), with the
    full-length mask added to a bare address (10.0.0.1 -> 10.0.0.1/32)."""
    if not isinstance(value, str):
        raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a valid IP prefix.")
    try:
        return str(ipaddress.ip_interface(value))
    except ValueError:
        raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a valid IP prefix.") from None


def mac(name: str, value: Any) -> str:
    parts = value.split(":") if isinstance(value, str) else []
    if len(parts) != 6 or not all(len(p) == 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in parts):
        raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a valid MAC address.")
    if int(parts[0], 16) & 1 or value.lower() == "00:00:00:00:00:00":
        raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a valid MAC address.")
    return str(value).lower()


def list_of(item: Validator) -> Validator:
    def check(name: str, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a list.")
        return [item(name, v) for v in value]

    return check


def dict_of(keys: dict[str, Validator], required: tuple[str, ...] = ()) -> Validator:
    def check(name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise InvalidInput(f"Invalid input for {name}. Reason: '{value}' is not a dictionary.")
        unknown = set(value) - set(keys)
        if unknown:
            raise InvalidInput(f"Invalid input for {name}. Reason: Unexpected keys supplied: {', '.join(unknown)}.")
        missing = [k for k in required if k not in value]
        if missing:
            raise InvalidInput(f"Invalid input for {name}. Reason: Missing key(s) {', '.join(missing)}.")
        return {k: keys[k](f"{name}.{k}", v) for k, v in value.items()}

    return check


def anything(_name: str, value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Attr:
    validate: Validator
    allow_post: bool = True
    allow_put: bool = True
    required: bool = False


NAME = Attr(_string())
DESCRIPTION = Attr(_string())
PROJECT = Attr(_string(), allow_put=False)
ADMIN_STATE = Attr(boolean)
FIXED_IP = dict_of({"subnet_id": uuid_str, "ip_address": ip_address})
ADDRESS_PAIR = dict_of({"ip_address": anything, "mac_address": mac}, required=("ip_address",))
HOST_ROUTE = dict_of({"destination": cidr, "nexthop": ip_address}, required=("destination", "nexthop"))
POOL = dict_of({"start": ip_address, "end": ip_address}, required=("start", "end"))
GATEWAY_INFO = dict_of(
    {"network_id": uuid_str, "enable_snat": boolean, "external_fixed_ips": list_of(FIXED_IP), "qos_policy_id": anything}
)

ATTRIBUTES: dict[str, dict[str, Attr]] = {
    "network": {
        "name": NAME,
        "description": DESCRIPTION,
        "admin_state_up": ADMIN_STATE,
        "shared": Attr(boolean),
        "router:external": Attr(boolean),
        "port_security_enabled": Attr(boolean),
        "mtu": Attr(integer(68, 9000)),
        "provider:network_type": Attr(_string(32), allow_put=False),
        "provider:physical_network": Attr(optional(_string(64)), allow_put=False),
        "provider:segmentation_id": Attr(optional(integer(0, 16777215)), allow_put=False),
        "availability_zone_hints": Attr(list_of(_string()), allow_put=False),
        "dns_domain": Attr(_string()),
        "is_default": Attr(boolean),
        "project_id": PROJECT,
        "tenant_id": PROJECT,
    },
    "subnet": {
        "name": NAME,
        "description": DESCRIPTION,
        "network_id": Attr(uuid_str, allow_put=False, required=True),
        "ip_version": Attr(integer(4, 6), allow_put=False, required=True),
        "cidr": Attr(optional(cidr), allow_put=False),
        "gateway_ip": Attr(optional(ip_address)),
        "enable_dhcp": Attr(boolean),
        "allocation_pools": Attr(list_of(POOL)),
        "dns_nameservers": Attr(list_of(ip_address)),
        "host_routes": Attr(list_of(HOST_ROUTE)),
        "ipv6_ra_mode": Attr(optional(_string(16)), allow_put=False),
        "ipv6_address_mode": Attr(optional(_string(16)), allow_put=False),
        "subnetpool_id": Attr(optional(uuid_str), allow_put=False),
        "prefixlen": Attr(integer(0, 128), allow_put=False),
        "use_default_subnetpool": Attr(boolean, allow_put=False),
        "segment_id": Attr(optional(uuid_str)),
        "project_id": PROJECT,
        "tenant_id": PROJECT,
    },
    "port": {
        "name": NAME,
        "description": DESCRIPTION,
        "network_id": Attr(uuid_str, allow_put=False, required=True),
        "admin_state_up": ADMIN_STATE,
        "mac_address": Attr(mac),
        "fixed_ips": Attr(list_of(FIXED_IP)),
        "device_id": Attr(_string()),
        "device_owner": Attr(_string()),
        "security_groups": Attr(optional(list_of(uuid_str))),
        "port_security_enabled": Attr(boolean),
        "allowed_address_pairs": Attr(optional(list_of(ADDRESS_PAIR))),
        "binding:host_id": Attr(optional(_string())),
        "binding:profile": Attr(optional(dict_of({}))),
        "binding:vnic_type": Attr(_string(64)),
        "dns_name": Attr(_string()),
        "project_id": PROJECT,
        "tenant_id": PROJECT,
    },
    "security_group": {
        "name": NAME,
        "description": DESCRIPTION,
        "stateful": Attr(boolean),
        "project_id": PROJECT,
        "tenant_id": PROJECT,
    },
    "security_group_rule": {
        "security_group_id": Attr(uuid_str, allow_put=False, required=True),
        "direction": Attr(_string(16), allow_put=False, required=True),
        "ethertype": Attr(_string(8), allow_put=False),
        "protocol": Attr(optional(anything), allow_put=False),
        "port_range_min": Attr(port_value, allow_put=False),
        "port_range_max": Attr(port_value, allow_put=False),
        "remote_ip_prefix": Attr(optional(ip_prefix), allow_put=False),
        # Not checked to be a UUID (as Neutron): an unknown group is a 404 SecurityGroupNotFound.
        "remote_group_id": Attr(optional(_string(255)), allow_put=False),
        "remote_address_group_id": Attr(optional(uuid_str), allow_put=False),
        "description": Attr(_string(), allow_put=False),
        "project_id": PROJECT,
        "tenant_id": PROJECT,
    },
    "router": {
        "name": NAME,
        "description": DESCRIPTION,
        "admin_state_up": ADMIN_STATE,
        "external_gateway_info": Attr(optional(GATEWAY_INFO)),
        "routes": Attr(list_of(HOST_ROUTE), allow_post=False),
        "distributed": Attr(boolean),
        "ha": Attr(boolean),
        "availability_zone_hints": Attr(list_of(_string()), allow_put=False),
        "project_id": PROJECT,
        "tenant_id": PROJECT,
    },
    "floatingip": {
        "floating_network_id": Attr(uuid_str, allow_put=False, required=True),
        "floating_ip_address": Attr(ip_address, allow_put=False),
        "subnet_id": Attr(optional(uuid_str), allow_put=False),
        "port_id": Attr(optional(uuid_str)),
        "fixed_ip_address": Attr(optional(ip_address)),
        "description": DESCRIPTION,
        "dns_name": Attr(_string(), allow_put=False),
        "dns_domain": Attr(_string(), allow_put=False),
        "project_id": PROJECT,
        "tenant_id": PROJECT,
    },
    "agent": {
        "admin_state_up": ADMIN_STATE,
        "description": DESCRIPTION,
        **{
            key: Attr(anything, allow_post=False, allow_put=False)
            for key in (
                "id agent_type binary topic host alive configurations availability_zone created_at started_at "
                "heartbeat_timestamp"
            ).split()
        },
    },
}


def parse(resource: str, body: Any, *, create: bool) -> dict[str, Any]:
    """The validated attributes of a ``{resource: {...}}`` body (see module doc)."""
    if not isinstance(body, dict) or not isinstance(body.get(resource), dict):
        raise NeutronBadRequest(f"Resource body required: expected an object named '{resource}'.")
    attrs = ATTRIBUTES[resource]
    values = body[resource]
    unknown = sorted(set(values) - set(attrs))
    if unknown:
        raise NeutronBadRequest(f"Unrecognized attribute(s) '{', '.join(unknown)}'")
    out: dict[str, Any] = {}
    for key, value in values.items():
        attr = attrs[key]
        if (create and not attr.allow_post) or (not create and not attr.allow_put):
            verb = "create" if create else "update"
            raise NeutronBadRequest(f"Attribute '{key}' not allowed in {'POST' if create else 'PUT'} ({verb})")
        out[key] = attr.validate(key, value)
    if create:
        missing = [k for k, a in attrs.items() if a.required and k not in out]
        if missing:
            raise NeutronBadRequest(f"Failed to parse request. Required attribute '{missing[0]}' not specified")
    if "tenant_id" in out and "project_id" in out and out["tenant_id"] != out["project_id"]:
        raise NeutronBadRequest("'project_id' and 'tenant_id' do not match")
    if "tenant_id" in out:
        out["project_id"] = out.pop("tenant_id")
    return out
