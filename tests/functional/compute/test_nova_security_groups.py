"""Nova's security group proxies (up to 2.35) forward to the network API with the user's token."""

from __future__ import annotations

import uuid
from typing import Any

from tests.functional.compute import test_networking
from tests.functional.compute.conftest import PROJECT_A, Api
from tests.functional.compute.test_networking import NetApi

napi = test_networking.napi  # the fixture, shared with the networking tests

SG = "/os-security-groups"
RULES = "/os-security-group-rules"


def _group(napi: NetApi, name: str = "web", as_: str = "member-a") -> dict[str, Any]:
    body = {"security_group": {"name": name, "description": f"{name} servers"}}
    return napi.ok("POST", SG, as_, json=body)["security_group"]  # type: ignore[no-any-return]


def _rule(napi: NetApi, status: int = 200, **rule: Any) -> Any:
    resp = napi("POST", RULES, json={"security_group_rule": rule})
    assert resp.status_code == status, resp.text
    return resp.json()


def test_group_lifecycle_is_the_network_apis(napi: NetApi) -> None:
    group = _group(napi)
    assert group["name"] == "web" and group["description"] == "web servers"
    assert group["tenant_id"] == PROJECT_A and group["rules"] == []  # egress rules are not Nova's to show
    net_group = napi.n("GET", f"/v2.0/security-groups/{group['id']}")["security_group"]
    assert net_group["name"] == "web" and net_group["project_id"] == PROJECT_A
    assert napi.ok("GET", f"{SG}/{group['id']}")["security_group"] == group
    listed = napi.ok("GET", SG)["security_groups"]
    assert {g["name"] for g in listed} == {"default", "web"}
    assert [g["name"] for g in listed] == sorted(g["name"] for g in listed)
    assert len(napi.ok("GET", f"{SG}?limit=1")["security_groups"]) == 1
    assert napi.ok("GET", f"{SG}?offset=1")["security_groups"] == listed[1:]
    # PUT renames it, in the network API too
    body = {"security_group": {"name": "www", "description": "renamed"}}
    updated = napi.ok("PUT", f"{SG}/{group['id']}", json=body)["security_group"]
    assert (updated["id"], updated["name"], updated["description"]) == (group["id"], "www", "renamed")
    assert napi.n("GET", f"/v2.0/security-groups/{group['id']}")["security_group"]["name"] == "www"
    napi.ok("DELETE", f"{SG}/{group['id']}", status=202)
    napi.n("GET", f"/v2.0/security-groups/{group['id']}", status=404)
    resp = napi("GET", f"{SG}/{group['id']}")
    assert resp.status_code == 404 and "itemNotFound" in resp.json(), resp.text
    assert napi("DELETE", f"{SG}/{group['id']}").status_code == 404


def test_rules_map_to_ingress_rules(napi: NetApi) -> None:
    group = _group(napi)
    source = _group(napi, "db")
    ssh = _rule(napi, parent_group_id=group["id"], ip_protocol="tcp", from_port=22, to_port=22, cidr="10.0.0.0/8")
    ssh = ssh["security_group_rule"]
    assert ssh["parent_group_id"] == group["id"] and ssh["ip_protocol"] == "tcp"
    assert (ssh["from_port"], ssh["to_port"]) == (22, 22)
    assert ssh["ip_range"] == {"cidr": "10.0.0.0/8"} and ssh["group"] == {}
    net_rule = napi.n("GET", f"/v2.0/security-group-rules/{ssh['id']}")["security_group_rule"]
    assert net_rule["direction"] == "ingress" and net_rule["remote_ip_prefix"] == "10.0.0.0/8"
    assert (net_rule["port_range_min"], net_rule["port_range_max"], net_rule["ethertype"]) == (22, 22, "IPv4")
    # ICMP -1/-1 is "any type and code": no port range in the network API
    ping = _rule(napi, parent_group_id=group["id"], ip_protocol="icmp", from_port=-1, to_port=-1)["security_group_rule"]
    assert (ping["from_port"], ping["to_port"], ping["ip_range"]) == (-1, -1, {"cidr": "0.0.0.0/0"})
    net_ping = napi.n("GET", f"/v2.0/security-group-rules/{ping['id']}")["security_group_rule"]
    assert (net_ping["port_range_min"], net_ping["port_range_max"]) == (None, None)
    # a source group with no ports opens the whole protocol, and names the group
    body = {"parent_group_id": group["id"], "ip_protocol": "tcp", "group_id": source["id"]}
    from_db = _rule(napi, **body)["security_group_rule"]
    assert from_db["group"] == {"name": "db", "tenant_id": PROJECT_A} and from_db["ip_range"] == {}
    assert (from_db["from_port"], from_db["to_port"]) == (1, 65535)
    assert (
        napi.n("GET", f"/v2.0/security-group-rules/{from_db['id']}")["security_group_rule"]["remote_group_id"]
        == (source["id"])
    )
    shown = napi.ok("GET", f"{SG}/{group['id']}")["security_group"]
    assert sorted(r["id"] for r in shown["rules"]) == sorted([ssh["id"], ping["id"], from_db["id"]])
    # the same rule twice is Nova's 400
    again = _rule(
        napi, 400, parent_group_id=group["id"], ip_protocol="tcp", from_port=22, to_port=22, cidr="10.0.0.0/8"
    )
    assert again["badRequest"]["message"] == f"This rule already exists in group {group['id']}"
    napi.ok("DELETE", f"{RULES}/{ssh['id']}", status=202)
    napi.n("GET", f"/v2.0/security-group-rules/{ssh['id']}", status=404)
    assert napi("DELETE", f"{RULES}/{ssh['id']}").status_code == 404
    assert napi("DELETE", f"{RULES}/not-a-uuid").status_code == 400


def test_bad_rules_and_groups_are_400_with_novas_messages(napi: NetApi) -> None:
    group = _group(napi)
    gid = group["id"]
    cases = [
        ({"ip_protocol": "tcp", "from_port": 80, "to_port": 22}, "Invalid port range 80:22. Former value cannot"),
        ({"ip_protocol": "udp", "from_port": 0, "to_port": 22}, "Invalid port range 0:22. Valid UDP ports should"),
        ({"ip_protocol": "icmp", "from_port": 300, "to_port": 0}, "Invalid port range 300:0. For ICMP, the type"),
        ({"ip_protocol": "gre", "from_port": 1, "to_port": 2}, "Invalid IP protocol gre."),
        ({"ip_protocol": "tcp", "from_port": "x", "to_port": 2}, "Invalid input received: To and From ports must be"),
        ({"ip_protocol": "tcp", "from_port": 1, "to_port": 2, "cidr": "10.0.0.300/8"}, "10.0.0.300/8 is not a valid"),
        ({"ip_protocol": "tcp", "from_port": 1, "to_port": 2, "cidr": "10.0.0.0/0"}, "Bad prefix for network in cidr"),
        ({"cidr": "10.0.0.0/8"}, "Not enough parameters to build a valid rule."),
    ]
    for rule, message in cases:
        body = _rule(napi, 400, parent_group_id=gid, **rule)
        assert body["badRequest"]["message"].startswith(message), (rule, body)
    bad_parent = _rule(napi, 400, parent_group_id="nope", ip_protocol="tcp", from_port=1, to_port=2)
    assert bad_parent["badRequest"]["message"] == "Security group id should be uuid"
    _rule(napi, 404, parent_group_id=str(uuid.uuid4()), ip_protocol="tcp", from_port=1, to_port=2)
    _rule(napi, 404, parent_group_id=gid, ip_protocol="tcp", group_id=str(uuid.uuid4()))
    net_rules = napi.n("GET", f"/v2.0/security-groups/{gid}")["security_group"]["security_group_rules"]
    assert [r for r in net_rules if r["direction"] == "ingress"] == []  # nothing got through
    assert napi("POST", RULES, json={}).status_code == 400
    resp = napi("POST", SG, json={"security_group": {"name": "x" * 256, "description": ""}})
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["message"] == "Invalid input received: name has more than 255 characters."
    resp = napi("POST", SG, json={"security_group": {"description": "no name"}})
    assert resp.json()["badRequest"]["message"] == "Invalid input received: name is not a string or unicode"
    assert napi("GET", f"{SG}/not-a-uuid").status_code == 400
    # a group a port uses cannot go (Nova answers 400, the network API's reason)
    net = napi.network_with_subnet()
    port = {"port": {"network_id": net, "security_groups": [gid]}}
    napi.n("POST", "/v2.0/ports", status=201, json=port)
    resp = napi("DELETE", f"{SG}/{gid}")
    assert resp.status_code == 400 and resp.json()["badRequest"]["message"], resp.text
    napi.n("GET", f"/v2.0/security-groups/{gid}")


def test_policy_and_project_isolation(napi: NetApi) -> None:
    group = _group(napi)
    assert group["id"] in {g["id"] for g in napi.ok("GET", SG, "reader-a")["security_groups"]}
    assert napi.ok("GET", f"{SG}/{group['id']}", "reader-a")["security_group"]["name"] == "web"
    body = {"security_group": {"name": "mine", "description": ""}}
    assert napi("POST", SG, "reader-a", json=body).status_code == 403
    assert napi("DELETE", f"{SG}/{group['id']}", "reader-a").status_code == 403
    rule = {"security_group_rule": {"parent_group_id": group["id"], "ip_protocol": "tcp", "from_port": 1, "to_port": 2}}
    assert napi("POST", RULES, "reader-a", json=rule).status_code == 403
    # the same project's other member shares it; another project does not see it at all
    assert napi.ok("GET", f"{SG}/{group['id']}", "member-a2")["security_group"]["id"] == group["id"]
    assert napi("GET", f"{SG}/{group['id']}", "member-b").status_code == 404
    assert napi("PUT", f"{SG}/{group['id']}", "member-b", json=body).status_code == 404
    assert napi("DELETE", f"{SG}/{group['id']}", "member-b").status_code == 404
    theirs = {"security_group_rule": {**rule["security_group_rule"]}}
    assert napi("POST", RULES, "member-b", json=theirs).status_code == 404
    assert group["id"] not in {g["id"] for g in napi.ok("GET", SG, "member-b")["security_groups"]}
    # an admin sees every project's groups only when asking all_tenants
    b_group = _group(napi, "b-web", "member-b")
    mine = {g["id"] for g in napi.ok("GET", SG, "admin")["security_groups"]}
    assert group["id"] not in mine and b_group["id"] not in mine
    every = {g["id"] for g in napi.ok("GET", f"{SG}?all_tenants=1", "admin")["security_groups"]}
    assert {group["id"], b_group["id"]} <= every
    assert b_group["id"] not in {g["id"] for g in napi.ok("GET", f"{SG}?all_tenants=1")["security_groups"]}


def test_gone_after_2_35(napi: NetApi) -> None:
    group = _group(napi)
    assert napi.ok("GET", SG, version="2.35")["security_groups"]
    for method, path, body in (
        ("GET", SG, None),
        ("POST", SG, {"security_group": {"name": "x", "description": ""}}),
        ("GET", f"{SG}/{group['id']}", None),
        ("PUT", f"{SG}/{group['id']}", {"security_group": {"name": "x", "description": ""}}),
        ("DELETE", f"{SG}/{group['id']}", None),
        ("POST", RULES, {"security_group_rule": {"parent_group_id": group["id"], "ip_protocol": "tcp"}}),
        ("DELETE", f"{RULES}/{uuid.uuid4()}", None),
    ):
        resp = napi(method, path, version="2.36", json=body)
        assert resp.status_code == 404, (method, path, resp.text)
        assert resp.json()["itemNotFound"]["message"] == "The resource could not be found."
    napi.n("GET", f"/v2.0/security-groups/{group['id']}")  # nothing was deleted


def test_a_servers_groups_are_its_ports_groups(napi: NetApi) -> None:
    net = napi.network_with_subnet()
    group = _group(napi)
    _rule(napi, parent_group_id=group["id"], ip_protocol="tcp", from_port=80, to_port=80, cidr="0.0.0.0/0")
    server = napi.active(networks=[{"uuid": net}], security_groups=[{"name": "web"}])
    groups = napi.ok("GET", f"/servers/{server['id']}/os-security-groups")["security_groups"]
    assert [g["id"] for g in groups] == [group["id"]]
    assert groups[0]["rules"][0]["from_port"] == 80 and groups[0]["tenant_id"] == PROJECT_A
    # still there after 2.35, as in Nova; readers may look, another project may not
    assert napi.ok("GET", f"/servers/{server['id']}/os-security-groups", version="2.79")["security_groups"] == groups
    assert napi.ok("GET", f"/servers/{server['id']}/os-security-groups", "reader-a")["security_groups"] == groups
    assert napi("GET", f"/servers/{server['id']}/os-security-groups", "member-b").status_code == 404
    assert napi("GET", f"/servers/{uuid.uuid4()}/os-security-groups").status_code == 404
    # a server on no network has no groups
    lone = napi.active(networks="none", version="2.37")
    assert napi.ok("GET", f"/servers/{lone['id']}/os-security-groups")["security_groups"] == []


def test_without_a_network_service_there_is_nothing_to_proxy(api: Api) -> None:
    resp = api("GET", SG)
    assert resp.status_code == 404 and resp.json()["itemNotFound"]["message"] == "The resource could not be found."
    body = {"security_group": {"name": "web", "description": ""}}
    assert api("POST", SG, json=body).status_code == 404


def test_a_group_path_without_an_id_is_404(napi: NetApi) -> None:
    for method in ("GET", "PUT", "DELETE"):
        assert napi(method, "/os-security-groups/").status_code == 404
