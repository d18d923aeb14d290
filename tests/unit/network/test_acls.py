"""Security group rule -> OVN ACL match strings (as Neutron's ovn/acl.py builds them)."""

from __future__ import annotations

import pytest

from stratus.network.backends.ovn import acls
from stratus.network.messages import RuleSpec

SG = "11111111-2222-3333-4444-555555555555"
PG = "pg_11111111_2222_3333_4444_555555555555"
OTHER = "99999999-2222-3333-4444-555555555555"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (RuleSpec("r", "egress", "IPv4"), f"inport == @{PG} && ip4"),
        (
            RuleSpec("r", "ingress", "IPv6", remote_group_id=OTHER),
            f"outport == @{PG} && ip6 && ip6.src == $pg_99999999_2222_3333_4444_555555555555_ip6",
        ),
        (
            RuleSpec("r", "ingress", "IPv4", "tcp", 22, 22, "10.0.0.0/8"),
            f"outport == @{PG} && ip4 && ip4.src == 10.0.0.0/8 && tcp && tcp.dst == 22",
        ),
        (
            RuleSpec("r", "egress", "IPv4", "udp", 1000, 2000, "192.0.2.0/24"),
            f"inport == @{PG} && ip4 && ip4.dst == 192.0.2.0/24 && udp && udp.dst >= 1000 && udp.dst <= 2000",
        ),
        (RuleSpec("r", "ingress", "IPv4", "tcp", 1, 65535), f"outport == @{PG} && ip4 && tcp"),
        (
            RuleSpec("r", "ingress", "IPv4", "icmp", 8, 0),
            f"outport == @{PG} && ip4 && icmp4 && icmp4.type == 8 && icmp4.code == 0",
        ),
        (RuleSpec("r", "ingress", "IPv6", "ipv6-icmp"), f"outport == @{PG} && ip6 && icmp6"),
        (RuleSpec("r", "ingress", "IPv4", "47"), f"outport == @{PG} && ip4 && ip.proto == 47"),
        (RuleSpec("r", "ingress", "IPv4", remote_ip_prefix="0.0.0.0/0"), f"outport == @{PG} && ip4"),
    ],
)
def test_match(rule: RuleSpec, expected: str) -> None:
    assert acls.match(rule, SG) == expected


def test_acl_row_direction_and_priority() -> None:
    row = acls.acl_row(RuleSpec("rid", "ingress", "IPv4"), SG)
    assert row["direction"] == "to-lport" and row["priority"] == 1002 and row["action"] == "allow-related"
    assert row["external_ids"] == {"neutron:security_group_rule_id": "rid"}
    assert acls.acl_row(RuleSpec("rid", "egress", "IPv4"), SG, stateful=False)["action"] == "allow-stateless"
    drops = acls.drop_acls()
    assert {(d["direction"], d["match"], d["action"]) for d in drops} == {
        ("from-lport", "inport == @neutron_pg_drop && ip", "drop"),
        ("to-lport", "outport == @neutron_pg_drop && ip", "drop"),
    }
