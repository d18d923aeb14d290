"""Security group rules -> OVN ACL rows on the group's port group (as Neutron's ``ovn/acl.py``)."""

from __future__ import annotations

from typing import Any

from stratus.network.backends.ovn import names
from stratus.network.messages import RuleSpec

PORT_PROTOCOLS = {"tcp": "tcp", "udp": "udp", "sctp": "sctp", "6": "tcp", "17": "udp", "132": "sctp"}
ICMP = ("icmp", "icmpv6", "ipv6-icmp", "1", "58")


def match(rule: RuleSpec, sg_id: str) -> str:
    """The ACL match of one rule of group ``sg_id``."""
    pg = names.port_group(sg_id)
    ingress = rule.direction == "ingress"
    ip = "ip4" if rule.ethertype == "IPv4" else "ip6"
    parts = [f"{'outport' if ingress else 'inport'} == @{pg}", ip]
    side = "src" if ingress else "dst"
    if rule.remote_ip_prefix and not rule.remote_ip_prefix.endswith("/0"):
        parts.append(f"{ip}.{side} == {rule.remote_ip_prefix}")
    elif rule.remote_group_id:
        parts.append(f"{ip}.{side} == ${names.port_group(rule.remote_group_id)}_{ip}")
    proto = rule.protocol
    if proto in PORT_PROTOCOLS:
        name = PORT_PROTOCOLS[proto]
        parts.append(name)
        lo, hi = rule.port_range_min, rule.port_range_max
        if lo is not None and (hi is None or lo == hi):
            parts.append(f"{name}.dst == {lo}")
        elif lo is not None and hi is not None and not (lo == 1 and hi == 65535):
            parts.append(f"{name}.dst >= {lo} && {name}.dst <= {hi}")
    elif proto in ICMP:
        icmp = "icmp4" if ip == "ip4" else "icmp6"
        parts.append(icmp)
        if rule.port_range_min is not None:
            parts.append(f"{icmp}.type == {rule.port_range_min}")
        if rule.port_range_max is not None:
            parts.append(f"{icmp}.code == {rule.port_range_max}")
    elif proto is not None:
        parts.append(f"ip.proto == {proto}")
    return " && ".join(parts)


def acl_row(rule: RuleSpec, sg_id: str, stateful: bool = True) -> dict[str, Any]:
    """Column values of the ACL for ``rule``; keyed in the NB by external_ids[neutron:security_group_rule_id]."""
    return {
        "direction": "to-lport" if rule.direction == "ingress" else "from-lport",
        "priority": names.ACL_PRIORITY,
        "match": match(rule, sg_id),
        "action": "allow-related" if stateful else "allow-stateless",
        "log": False,
        "external_ids": {names.RULE_ID: rule.id},
    }


def drop_acls() -> list[dict[str, Any]]:
    """The two ACLs of ``neutron_pg_drop``: everything IP not allowed by a group is dropped."""
    pg = names.DROP_PORT_GROUP
    return [
        {
            "direction": "from-lport",
            "priority": names.DROP_PRIORITY,
            "match": f"inport == @{pg} && ip",
            "action": "drop",
            "log": False,
            "external_ids": {},
        },
        {
            "direction": "to-lport",
            "priority": names.DROP_PRIORITY,
            "match": f"outport == @{pg} && ip",
            "action": "drop",
            "log": False,
            "external_ids": {},
        },
    ]
