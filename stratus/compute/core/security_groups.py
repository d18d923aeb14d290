"""Nova's security group proxies over the network API, acting with the user's token.

Nova shows only a group's ingress rules, in its own shape (``ip_protocol``, ``from_port``/``to_port``,
``ip_range``/``group``); every rule it creates is an ingress one. The checks and messages follow Nova's
``nova/network/security_group_api.py``; whatever gets past them is the network API's to refuse.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from stratus.compute.core.base import is_uuid, parse_int
from stratus.compute.core.network_calls import network_errors
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, Forbidden
from stratus.network.client import NetworkClient, NetworkClientError

SG_PATH = "/v2.0/security-groups"
RULE_PATH = "/v2.0/security-group-rules"
MAX_PROPERTY_LENGTH = 255


def validate_id(value: Any) -> str:
    if not is_uuid(value):
        raise BadRequest("Security group id should be uuid")
    return str(value)


def _check_property(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"Invalid input received: {name} is not a string or unicode")
    if len(value) > MAX_PROPERTY_LENGTH:
        raise BadRequest(f"Invalid input received: {name} has more than {MAX_PROPERTY_LENGTH} characters.")
    return value


def _from_body(body: Any, key: str) -> dict[str, Any]:
    if not body:
        raise BadRequest("The request body can't be empty")
    value = body.get(key) if isinstance(body, dict) else None
    if value is None:
        raise BadRequest(f"Missing parameter {key}")
    if not isinstance(value, dict):
        raise BadRequest(f"Invalid input for field/attribute {key}. Value: {value}. {value!r} is not of type 'object'")
    return value


def parse_cidr(cidr: Any) -> str:
    """Nova's default (anywhere over IPv4) for no CIDR; a CIDR needs its prefix length written out."""
    if not cidr:
        return "0.0.0.0/0"
    try:
        if not isinstance(cidr, str) or "/" not in cidr:
            raise ValueError(cidr)
        ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        raise BadRequest(f"{cidr} is not a valid IP network.") from None
    return cidr


def _port_range(protocol: str, from_port: Any, to_port: Any) -> tuple[int, int]:
    upper = protocol.upper()
    try:
        if isinstance(from_port, bool) or isinstance(to_port, bool):
            raise ValueError
        low, high = int(from_port), int(to_port)
    except (TypeError, ValueError):
        what = "Type and Code must be integers for ICMP protocol type" if upper == "ICMP" else None
        raise BadRequest(f"Invalid input received: {what or 'To and From ports must be integers'}") from None
    if upper not in ("TCP", "UDP", "ICMP"):
        raise BadRequest(f"Invalid IP protocol {protocol}.")
    bad = None
    if upper in ("TCP", "UDP") and low > high:
        bad = "Former value cannot be greater than the later"
    elif upper in ("TCP", "UDP") and (low < 1 or high > 65535):
        bad = f"Valid {upper} ports should be between 1-65535"
    elif upper == "ICMP" and not (-1 <= low <= 255 and -1 <= high <= 255):
        bad = "For ICMP, the type:code must be valid"
    if bad:
        raise BadRequest(f"Invalid port range {low}:{high}. {bad}")
    return low, high


def new_rule(data: dict[str, Any], group_id: str | None) -> dict[str, Any]:
    """Nova's rule (``protocol``, ports, ``cidr`` or ``group_id``) from the request, checked as Nova checks it."""
    protocol, from_port, to_port = data.get("ip_protocol"), data.get("from_port"), data.get("to_port")
    rule: dict[str, Any] = {"group_id": group_id, "cidr": None}
    if group_id:
        upper = str(protocol).upper() if protocol else ""
        if from_port is None and to_port is None:  # a source group without ports opens the whole protocol
            from_port, to_port = {"ICMP": (-1, -1), "TCP": (1, 65535), "UDP": (1, 65535)}.get(upper, (None, None))
    else:
        rule["cidr"] = parse_cidr(data.get("cidr"))
    if protocol and from_port is not None and to_port is not None:
        rule["protocol"] = str(protocol).lower()
        rule["from_port"], rule["to_port"] = _port_range(str(protocol), from_port, to_port)
    elif not group_id:
        raise BadRequest("Not enough parameters to build a valid rule.")
    if rule["cidr"]:
        net = ipaddress.ip_network(rule["cidr"], strict=False)
        if rule["cidr"].split("/")[1] == "0" and rule["cidr"].split("/")[0] not in ("0.0.0.0", "::"):
            raise BadRequest(f"Bad prefix for network in cidr {rule['cidr']}")
        rule["ethertype"] = "IPv6" if net.version == 6 else "IPv4"
    return rule


def _neutron_rule(parent_id: str, rule: dict[str, Any]) -> dict[str, Any]:
    body = {
        "direction": "ingress",
        "security_group_id": parent_id,
        "ethertype": rule.get("ethertype", "IPv4"),
        "protocol": rule.get("protocol"),
        "remote_ip_prefix": rule["cidr"],
        "remote_group_id": rule["group_id"],
    }
    if rule.get("from_port", -1) != -1:
        body["port_range_min"] = rule["from_port"]
    if rule.get("to_port", -1) != -1:
        body["port_range_max"] = rule["to_port"]
    return body


def _ports(rule: dict[str, Any]) -> tuple[Any, Any]:
    """Nova's ports of a network API rule: a protocol without ports spans all of them."""
    protocol, low, high = rule.get("protocol"), rule.get("port_range_min"), rule.get("port_range_max")
    if protocol and low is None and high is None:
        return (1, 65535) if str(protocol).upper() in ("TCP", "UDP") else (-1, -1)
    return low, high


def _owner(group: dict[str, Any]) -> dict[str, Any]:
    return {"name": group.get("name"), "tenant_id": group.get("tenant_id") or group.get("project_id")}


class SecurityGroupProxy:
    """One request's view of the network API's security groups, in Nova's format."""

    def __init__(self, client: NetworkClient, ctx: RequestContext):
        self._client = client
        self._ctx = ctx
        self._owners: dict[str, dict[str, Any] | None] = {}  # rule's remote group -> Nova's "group" (None: unseen)

    # formatting

    def _remote(self, group_id: str) -> dict[str, Any] | None:
        if group_id not in self._owners:
            try:
                self._owners[group_id] = _owner(self._client.request("GET", f"{SG_PATH}/{group_id}")["security_group"])
            except NetworkClientError as err:
                if err.status != 404:
                    raise
                self._owners[group_id] = None
        return self._owners[group_id]

    def rule_view(self, rule: dict[str, Any]) -> dict[str, Any] | None:
        """Nova's rule; None when its source group cannot be seen (Nova leaves such a rule out)."""
        from_port, to_port = _ports(rule)
        view = {
            "id": rule["id"],
            "parent_group_id": rule["security_group_id"],
            "ip_protocol": rule.get("protocol"),
            "from_port": from_port,
            "to_port": to_port,
            "group": {},
            "ip_range": {},
        }
        if rule.get("remote_group_id"):
            owner = self._remote(rule["remote_group_id"])
            if owner is None:
                return None
            view["group"] = owner
        else:
            view["ip_range"] = {"cidr": rule.get("remote_ip_prefix") or "0.0.0.0/0"}
        return view

    def group_view(self, group: dict[str, Any]) -> dict[str, Any]:
        self._owners[group["id"]] = _owner(group)
        rules = [self.rule_view(r) for r in group.get("security_group_rules", []) if r.get("direction") == "ingress"]
        return {
            "id": group["id"],
            "name": group.get("name"),
            "description": group.get("description"),
            "tenant_id": _owner(group)["tenant_id"],
            "rules": [r for r in rules if r is not None],
        }

    def _views(self, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for group in groups:  # rules pointing at a listed group need no lookup
            self._owners[group["id"]] = _owner(group)
        return sorted((self.group_view(g) for g in groups), key=lambda g: (g["tenant_id"] or "", g["name"] or ""))

    # groups

    def _get(self, group_id: Any) -> dict[str, Any]:
        group_id = validate_id(group_id)
        with network_errors():
            return self._client.request("GET", f"{SG_PATH}/{group_id}")["security_group"]  # type: ignore[no-any-return]

    def list(self, params: dict[str, str], max_limit: int) -> list[dict[str, Any]]:
        """The project's groups (every project's for an admin asking ``all_tenants``), Nova's limit/offset."""
        offset = parse_int(params.get("offset", 0), "offset", 0)
        limit = parse_int(params.get("limit", 0), "limit", 0)
        query = {}
        if not (self._ctx.is_admin and "all_tenants" in params):
            query["tenant_id"] = self._ctx.project_id
        with network_errors():
            groups = self._client.request("GET", SG_PATH, params=query)["security_groups"]
        views = self._views(groups)
        return views[offset : offset + min(max_limit, limit or max_limit)]

    def show(self, group_id: str) -> dict[str, Any]:
        return self.group_view(self._get(group_id))

    def create(self, body: Any) -> dict[str, Any]:
        data = _from_body(body, "security_group")
        group = {
            "name": _check_property(data.get("name"), "name"),
            "description": _check_property(data.get("description"), "description"),
        }
        with network_errors(conflict=Forbidden):  # the network API's quota: Nova's SecurityGroupLimitExceeded
            created = self._client.request("POST", SG_PATH, json={"security_group": group})["security_group"]
        return self.group_view(created)

    def update(self, group_id: str, body: Any) -> dict[str, Any]:
        current = self._get(group_id)
        data = _from_body(body, "security_group")
        group = {
            "name": _check_property(data.get("name"), "name"),
            "description": _check_property(data.get("description"), "description"),
        }
        with network_errors(conflict=BadRequest):
            path = f"{SG_PATH}/{current['id']}"
            updated = self._client.request("PUT", path, json={"security_group": group})["security_group"]
        return self.group_view(updated)

    def delete(self, group_id: str) -> None:
        current = self._get(group_id)
        with network_errors(conflict=BadRequest):  # still in use by a port: Nova answers 400
            self._client.request("DELETE", f"{SG_PATH}/{current['id']}")

    # rules

    def create_rule(self, body: Any) -> dict[str, Any]:
        data = _from_body(body, "security_group_rule")
        parent = self._get(data.get("parent_group_id"))
        group_id = data.get("group_id")
        if group_id is not None:
            self._owners[validate_id(group_id)] = _owner(self._get(group_id))
        rule = new_rule(data, group_id)
        self._check_unique(parent, rule)
        with network_errors(conflict=Forbidden):  # the network API's quota: Nova's SecurityGroupLimitExceeded
            body = {"security_group_rule": _neutron_rule(parent["id"], rule)}
            created = self._client.request("POST", RULE_PATH, json=body)["security_group_rule"]
        return self.rule_view(created) or {}  # never empty: its source group was just read

    def _check_unique(self, parent: dict[str, Any], rule: dict[str, Any]) -> None:
        wanted = (rule["group_id"], rule["cidr"], rule.get("from_port"), rule.get("to_port"), rule.get("protocol"))
        for existing in parent.get("security_group_rules", []):
            if existing.get("direction") != "ingress":
                continue
            low, high = _ports(existing)
            cidr = None if existing.get("remote_group_id") else existing.get("remote_ip_prefix") or "0.0.0.0/0"
            if (existing.get("remote_group_id"), cidr, low, high, existing.get("protocol")) == wanted:
                raise BadRequest(f"This rule already exists in group {parent['id']}")

    def delete_rule(self, rule_id: str) -> None:
        if not is_uuid(rule_id):
            raise BadRequest("Security group id should be uuid")
        with network_errors():
            rule = self._client.request("GET", f"{RULE_PATH}/{rule_id}")["security_group_rule"]
            self._get(rule["security_group_id"])
            self._client.request("DELETE", f"{RULE_PATH}/{rule_id}")

    # a server's groups

    def of_server(self, server_id: str) -> list[dict[str, Any]]:
        """The groups on the server's ports that the user can see (Nova's detailed server binding)."""
        with network_errors():
            ports = self._client.request("GET", "/v2.0/ports", params={"device_id": server_id})["ports"]
            ids = sorted({sg for port in ports for sg in port.get("security_groups") or []})
            if not ids:
                return []
            groups = self._client.request("GET", SG_PATH, params={"id": ids})["security_groups"]
        return self._views(groups)
