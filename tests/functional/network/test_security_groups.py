"""Security groups and rules: the default group, rule validation, duplicates, in-use checks."""

from __future__ import annotations

from typing import Any

from tests.functional.network.conftest import Api


def _rules(api: Api, sg_id: str, **fields: Any) -> Any:
    return api(
        "POST", "/v2.0/security-group-rules", json={"security_group_rule": {"security_group_id": sg_id, **fields}}
    )


def test_default_group_made_once_with_upstream_rules(api: Api) -> None:
    groups = api.ok("GET", "/v2.0/security-groups")["security_groups"]
    assert [g["name"] for g in groups] == ["default"]
    assert api.ok("GET", "/v2.0/security-groups")["security_groups"][0]["id"] == groups[0]["id"]
    rules = {(r["direction"], r["ethertype"], r["remote_group_id"]) for r in groups[0]["security_group_rules"]}
    sg = groups[0]["id"]
    assert rules == {
        ("egress", "IPv4", None),
        ("egress", "IPv6", None),
        ("ingress", "IPv4", sg),
        ("ingress", "IPv6", sg),
    }
    api.error(api("POST", "/v2.0/security-groups", json={"security_group": {"name": "default"}}), 409)
    api.error(api("DELETE", f"/v2.0/security-groups/{sg}"), 409, "SecurityGroupCannotRemoveDefault")
    api.error(api("PUT", f"/v2.0/security-groups/{sg}", json={"security_group": {"name": "x"}}), 409)


def test_new_group_has_egress_rules(api: Api) -> None:
    sg = api.create("security_group", name="web", description="d")
    assert sg["name"] == "web" and sg["stateful"] is True
    assert {(r["direction"], r["ethertype"]) for r in sg["security_group_rules"]} == {
        ("egress", "IPv4"),
        ("egress", "IPv6"),
    }
    updated = api.ok("PUT", f"/v2.0/security-groups/{sg['id']}", json={"security_group": {"name": "www"}})
    assert updated["security_group"]["name"] == "www"


def test_rule_create_and_duplicate(api: Api) -> None:
    sg = api.create("security_group", name="web")
    rule = api.create(
        "security_group_rule",
        security_group_id=sg["id"],
        direction="ingress",
        protocol="tcp",
        port_range_min=80,
        port_range_max=80,
        remote_ip_prefix="0.0.0.0/0",
    )
    assert rule["protocol"] == "tcp" and rule["ethertype"] == "IPv4" and rule["remote_ip_prefix"] == "0.0.0.0/0"
    dup = _rules(
        api,
        sg["id"],
        direction="ingress",
        protocol="tcp",
        port_range_min=80,
        port_range_max=80,
        remote_ip_prefix="0.0.0.0/0",
    )
    assert rule["id"] in api.error(dup, 409, "SecurityGroupRuleExists")["message"]
    shown = api.ok("GET", f"/v2.0/security-group-rules/{rule['id']}")["security_group_rule"]
    assert shown["port_range_min"] == 80
    api.ok("DELETE", f"/v2.0/security-group-rules/{rule['id']}", status=204)
    api.error(api("GET", f"/v2.0/security-group-rules/{rule['id']}"), 404, "SecurityGroupRuleNotFound")
    icmp = api.create(
        "security_group_rule",
        security_group_id=sg["id"],
        direction="ingress",
        protocol="icmp",
        port_range_min=8,
        port_range_max=0,
    )
    assert icmp["port_range_min"] == 8
    numeric = api.create("security_group_rule", security_group_id=sg["id"], direction="ingress", protocol="47")
    assert numeric["protocol"] == "47"
    v6 = api.create(
        "security_group_rule",
        security_group_id=sg["id"],
        direction="ingress",
        ethertype="IPv6",
        protocol="ipv6-icmp",
        remote_ip_prefix="::/0",
    )
    assert v6["ethertype"] == "IPv6"


def test_rule_validation(api: Api) -> None:
    sg = api.create("security_group", name="web")
    other = api.create("security_group", name="other")
    cases = [
        ({"direction": "sideways"}, 400),
        ({"direction": "ingress", "ethertype": "IPv5"}, 400),
        ({"direction": "ingress", "protocol": "bogus"}, 400),
        ({"direction": "ingress", "protocol": "300"}, 400),
        ({"direction": "ingress", "port_range_min": 22}, 400),
        ({"direction": "ingress", "protocol": "tcp", "port_range_min": 90, "port_range_max": 80}, 400),
        ({"direction": "ingress", "protocol": "tcp", "port_range_min": 0, "port_range_max": 80}, 400),
        ({"direction": "ingress", "protocol": "tcp", "port_range_min": 1, "port_range_max": 70000}, 400),
        ({"direction": "ingress", "protocol": "icmp", "port_range_min": 300}, 400),
        ({"direction": "ingress", "protocol": "gre", "port_range_min": 1, "port_range_max": 2}, 400),
        ({"direction": "ingress", "remote_ip_prefix": "10.0.0.0/8", "remote_group_id": other["id"]}, 400),
        ({"direction": "ingress", "ethertype": "IPv6", "remote_ip_prefix": "10.0.0.0/8"}, 400),
        ({"direction": "ingress", "remote_ip_prefix": "banana"}, 400),
        ({"direction": "ingress", "remote_group_id": "00000000-0000-0000-0000-000000000000"}, 404),
        ({"direction": "ingress", "bogus": 1}, 400),
    ]
    for fields, status in cases:
        api.error(_rules(api, sg["id"], **fields), status)
    missing = _rules(api, "00000000-0000-0000-0000-000000000000", direction="ingress")
    api.error(missing, 404, "SecurityGroupNotFound")
    theirs = api.create("security_group", "member-b", name="theirs")
    api.error(_rules(api, theirs["id"], direction="ingress"), 404)
    api.error(_rules(api, sg["id"], direction="ingress", remote_group_id=theirs["id"]), 404)
    ok = _rules(api, sg["id"], direction="ingress", remote_group_id=other["id"])
    assert ok.status_code == 201, ok.text


def test_group_in_use(api: Api) -> None:
    net, _ = api.network_with_subnet()
    sg = api.create("security_group", name="web")
    port = api.create("port", network_id=net["id"], security_groups=[sg["id"]])
    api.error(api("DELETE", f"/v2.0/security-groups/{sg['id']}"), 409, "SecurityGroupInUse")
    api.ok("PUT", f"/v2.0/ports/{port['id']}", json={"port": {"security_groups": []}})
    api.ok("DELETE", f"/v2.0/security-groups/{sg['id']}", status=204)
    api.error(api("GET", f"/v2.0/security-groups/{sg['id']}"), 404, "SecurityGroupNotFound")


def test_reader_cannot_write_groups(api: Api) -> None:
    api.error(api("POST", "/v2.0/security-groups", "reader-a", json={"security_group": {"name": "x"}}), 403)


def test_a_rules_remote_prefix_is_kept_as_given(api: Api) -> None:
    """As Neutron: host bits stay (10.2.3.124/24), a bare address gets its full mask (/32)."""
    sg = api.create("security_group", name="prefixes")
    made = [
        api.ok("POST", "/v2.0/security-group-rules", status=201, json={"security_group_rule": {
            "security_group_id": sg["id"], "direction": "ingress", "protocol": "tcp", "port_range_min": port,
            "port_range_max": port, "remote_ip_prefix": prefix}})["security_group_rule"]["remote_ip_prefix"]
        for port, prefix in ((22, "10.2.3.124/24"), (23, "10.9.9.9"))
    ]  # fmt: skip
    assert made == ["10.2.3.124/24", "10.9.9.9/32"]
