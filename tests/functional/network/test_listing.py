"""List queries: filters, fields, sorting, pagination links, and project isolation."""

from __future__ import annotations

from tests.functional.network.conftest import Api


def test_filters_fields_sorting(api: Api) -> None:
    for name in ("c", "a", "b"):
        api.create("network", name=name)
    names = [n["name"] for n in api.ok("GET", "/v2.0/networks?sort_key=name&sort_dir=asc")["networks"]]
    assert names == ["a", "b", "c"]
    names = [n["name"] for n in api.ok("GET", "/v2.0/networks?sort_key=name&sort_dir=desc")["networks"]]
    assert names == ["c", "b", "a"]
    only = api.ok("GET", "/v2.0/networks?name=b&fields=id&fields=name")["networks"]
    assert len(only) == 1 and set(only[0]) == {"id", "name"}
    assert len(api.ok("GET", "/v2.0/networks?name=a&name=c")["networks"]) == 2
    assert len(api.ok("GET", "/v2.0/networks?admin_state_up=true")["networks"]) == 3
    api.error(api("GET", "/v2.0/networks?sort_key=bogus"), 400)
    api.error(api("GET", "/v2.0/networks?sort_key=name&sort_dir=up"), 400)
    api.error(api("GET", "/v2.0/networks?limit=-1"), 400)
    api.error(api("GET", "/v2.0/networks?bogus=1"), 400)
    shown = api.ok("GET", f"/v2.0/networks/{only[0]['id']}?fields=name")["network"]
    assert shown == {"name": "b"}


def test_pagination_links(api: Api) -> None:
    for n in range(5):
        api.create("network", name=f"n{n}")
    page = api.ok("GET", "/v2.0/networks?limit=2&sort_key=name")
    assert [n["name"] for n in page["networks"]] == ["n0", "n1"]
    nxt = next(link["href"] for link in page["networks_links"] if link["rel"] == "next")
    page2 = api.ok("GET", nxt)
    assert [n["name"] for n in page2["networks"]] == ["n2", "n3"]
    rels = {link["rel"] for link in page2["networks_links"]}
    assert rels == {"next", "previous"}
    prev = next(link["href"] for link in page2["networks_links"] if link["rel"] == "previous")
    assert [n["name"] for n in api.ok("GET", prev)["networks"]] == ["n0", "n1"]
    last = api.ok("GET", next(link["href"] for link in page2["networks_links"] if link["rel"] == "next"))
    assert [n["name"] for n in last["networks"]] == ["n4"]
    assert [link["rel"] for link in last["networks_links"]] == ["previous"]
    api.error(api("GET", "/v2.0/networks?marker=00000000-0000-0000-0000-000000000000"), 404)


def test_port_filters(api: Api) -> None:
    net, sub = api.network_with_subnet()
    p1 = api.create("port", network_id=net["id"], device_id="vm-1")
    api.create("port", network_id=net["id"], device_id="vm-2")
    assert [p["id"] for p in api.ok("GET", "/v2.0/ports?device_id=vm-1")["ports"]] == [p1["id"]]
    ip = p1["fixed_ips"][0]["ip_address"]
    found = api.ok("GET", f"/v2.0/ports?fixed_ips=ip_address%3D{ip}")["ports"]
    assert [p["id"] for p in found] == [p1["id"]]
    assert len(api.ok("GET", f"/v2.0/ports?network_id={net['id']}&device_owner=")["ports"]) == 2


def test_project_isolation(api: Api) -> None:
    net, sub = api.network_with_subnet()
    port = api.create("port", network_id=net["id"])
    sg = api.create("security_group", name="web")
    router = api.create("router", name="r")
    for path in (
        f"networks/{net['id']}",
        f"subnets/{sub['id']}",
        f"ports/{port['id']}",
        f"security-groups/{sg['id']}",
        f"routers/{router['id']}",
    ):
        api.error(api("GET", f"/v2.0/{path}", "member-b"), 404)
        api.error(api("DELETE", f"/v2.0/{path}", "member-b"), 404)
        api.ok("GET", f"/v2.0/{path}", "reader-a")
        api.ok("GET", f"/v2.0/{path}", "admin")
    for coll in ("networks", "subnets", "ports", "routers"):
        assert api.ok("GET", f"/v2.0/{coll}", "member-b")[coll] == []
    api.error(api("POST", "/v2.0/ports", "member-b", json={"port": {"network_id": net["id"]}}), 404)
    api.error(api("POST", "/v2.0/networks", "reader-a", json={"network": {"name": "x"}}), 403)
    api.error(api("DELETE", f"/v2.0/ports/{port['id']}", "reader-a"), 403)
    mine = [g["name"] for g in api.ok("GET", "/v2.0/security-groups", "member-b")["security_groups"]]
    assert mine == ["default"]
    everyone = api.ok("GET", "/v2.0/networks", "admin")["networks"]
    assert net["id"] in [n["id"] for n in everyone]


def test_external_network_visible_to_all(api: Api) -> None:
    ext, _ = api.external_network()
    assert ext["id"] in [n["id"] for n in api.ok("GET", "/v2.0/networks?router:external=true", "member-b")["networks"]]
    api.error(api("POST", "/v2.0/ports", "member-b", json={"port": {"network_id": ext["id"]}}), 404)


def test_bulk_create(api: Api) -> None:
    made = api.ok("POST", "/v2.0/networks", status=201, json={"networks": [{"name": "x"}, {"name": "y"}]})
    assert [n["name"] for n in made["networks"]] == ["x", "y"]
    bad = api("POST", "/v2.0/networks", json={"networks": [{"name": "z"}, {"bogus": 1}]})
    api.error(bad, 400)
    assert sorted(n["name"] for n in api.ok("GET", "/v2.0/networks")["networks"]) == ["x", "y"]
