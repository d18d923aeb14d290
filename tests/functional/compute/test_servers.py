"""Servers: create, show, list, update, delete; validation; isolation; multi-create."""

from __future__ import annotations

import base64

from tests.functional.compute.conftest import ADMIN_PROJECT, HOST, PROJECT_A, Api


def test_boot_reaches_active_with_fields_the_cli_shows(api: Api) -> None:
    created = api.boot(metadata={"role": "web"}, version="2.79", networks="none")
    assert created["server"]["adminPass"]
    server = api.wait_status(created["server"]["id"], "ACTIVE")
    assert server["tenant_id"] == PROJECT_A and server["metadata"] == {"role": "web"}
    assert server["OS-EXT-STS:vm_state"] == "active" and server["OS-EXT-STS:power_state"] == 1
    assert server["OS-SRV-USG:launched_at"] and server["hostId"]
    assert server["image"]["id"] == api.image_id and server["flavor"]["id"] == api.flavor_id
    assert "OS-EXT-SRV-ATTR:host" not in server  # admin only
    admin_view = api.server(server["id"], "admin", version="2.79")
    assert admin_view["OS-EXT-SRV-ATTR:host"] == HOST
    assert admin_view["flavor"]["original_name"] == "m1.tiny" and admin_view["locked"] is False
    assert admin_view["host_status"] == "UP" and admin_view["server_groups"] == []


def test_create_returns_location_and_version_headers(api: Api) -> None:
    resp = api("POST", "/servers", version="2.47", json={"server": {
        "name": "x", "imageRef": api.image_id, "flavorRef": api.flavor_id, "networks": "auto"}})  # fmt: skip
    assert resp.status_code == 202, resp.text
    assert resp.headers["Location"].endswith(f"/v2.1/servers/{resp.json()['server']['id']}")
    assert resp.headers["OpenStack-API-Version"] == "compute 2.47"
    assert "OpenStack-API-Version" in resp.headers["Vary"]
    assert len(resp.json()["server"]["adminPass"]) >= 8  # generated when the user gives none
    server = {"name": "y", "imageRef": api.image_id, "flavorRef": api.flavor_id, "networks": "auto"}
    chosen = api("POST", "/servers", json={"server": {**server, "adminPass": "s3cret-Pa55"}})
    assert chosen.status_code == 202 and chosen.json()["server"]["adminPass"] == "s3cret-Pa55"
    bad = api("POST", "/servers", json={"server": {**server, "adminPass": 42}})
    assert bad.status_code == 400 and "adminPass" in bad.json()["badRequest"]["message"]
    # one request id, under Nova's two names
    assert resp.headers["x-compute-request-id"] == resp.headers["x-openstack-request-id"]
    assert resp.headers["x-compute-request-id"].startswith("req-")


def test_bad_create_bodies_are_400_and_create_nothing(api: Api) -> None:
    bad = [
        {"imageRef": "not-a-uuid"},
        {"imageRef": "6b1f7b8e-4a4e-4a8c-9d65-000000000000"},
        {"flavorRef": "no-such-flavor"},
        {"name": ""},
        {"min_count": -1},
        {"min_count": 3, "max_count": 2},
        {"user_data": "not base64!!"},
        {"key_name": "missing"},
        {"availability_zone": "nowhere"},
        {"metadata": {"k": 5}},
        {"networks": [{"uuid": "bad"}]},
    ]
    for fields in bad:
        resp = api("POST", "/servers", json={"server": {"name": "vm", "imageRef": api.image_id,
                                                         "flavorRef": api.flavor_id, **fields}})  # fmt: skip
        assert resp.status_code == 400, (fields, resp.text)
        assert resp.json()["badRequest"]["code"] == 400
    assert api.ok("GET", "/servers")["servers"] == []
    missing_networks = api("POST", "/servers", version="2.37", json={"server": {
        "name": "vm", "imageRef": api.image_id, "flavorRef": api.flavor_id}})  # fmt: skip
    assert missing_networks.status_code == 400
    assert api("POST", "/servers", content=b"{nope", headers={"Content-Type": "application/json"}).status_code == 400


def test_user_data_and_key_pair_reach_the_server(api: Api) -> None:
    api.ok("POST", "/os-keypairs", json={"keypair": {"name": "k1"}})
    user_data = base64.b64encode(b"#!/bin/sh\necho hi\n").decode()
    server = api.active(key_name="k1", user_data=user_data)
    assert server["key_name"] == "k1"
    admin = api.server(server["id"], "admin", version="2.3")
    assert admin["OS-EXT-SRV-ATTR:user_data"] == user_data


def test_multi_create_names_and_reservation_id(api: Api) -> None:
    body = api.boot(name="web", min_count=2, max_count=3, return_reservation_id=True)
    reservation = body["reservation_id"]
    servers = api.ok("GET", f"/servers/detail?reservation_id={reservation}")["servers"]
    assert sorted(s["name"] for s in servers) == ["web-1", "web-2", "web-3"]
    for s in servers:
        api.wait_status(s["id"], "ACTIVE")


def test_list_filters_and_pagination(api: Api) -> None:
    ids = [api.active(name=f"srv-{i}")["id"] for i in range(3)]
    page = api.ok("GET", "/servers?limit=2")
    assert len(page["servers"]) == 2 and page["servers_links"][0]["rel"] == "next"
    rest = api.ok("GET", f"/servers?limit=2&marker={page['servers'][-1]['id']}")
    assert {s["id"] for s in page["servers"] + rest["servers"]} == set(ids)
    assert api("GET", "/servers?marker=nope").status_code == 400
    assert [s["name"] for s in api.ok("GET", "/servers?name=srv-1$")["servers"]] == ["srv-1"]
    assert len(api.ok("GET", "/servers?status=ACTIVE")["servers"]) == 3
    assert api.ok("GET", "/servers?status=SHUTOFF")["servers"] == []
    assert api("GET", "/servers?status=BOGUS", version="2.38").status_code == 400
    assert len(api.ok("GET", f"/servers?flavor={api.flavor_id}")["servers"]) == 3
    assert api.ok("GET", "/servers?changes-since=2999-01-01T00:00:00Z")["servers"] == []
    assert api("GET", "/servers?changes-since=yesterday").status_code == 400


def test_update_name_and_description(api: Api) -> None:
    server = api.active()
    resp = api("PUT", f"/servers/{server['id']}", version="2.19", json={"server": {"name": "new", "description": "d"}})
    assert resp.status_code == 200, resp.text
    assert resp.json()["server"]["name"] == "new" and resp.json()["server"]["description"] == "d"
    assert api("PUT", f"/servers/{server['id']}", json={"server": {"name": ""}}).status_code == 400
    assert api("PUT", f"/servers/{server['id']}", json={"server": {"description": "x"}}).status_code == 400


def test_delete_removes_server_from_lists(api: Api) -> None:
    server = api.active()
    assert api("DELETE", f"/servers/{server['id']}").status_code == 204
    api.wait_gone(server["id"])
    assert api.ok("GET", "/servers")["servers"] == []
    changed = api.ok("GET", "/servers/detail?changes-since=2000-01-01T00:00:00Z")["servers"]
    assert [s["status"] for s in changed] == ["DELETED"]


def test_isolation_between_projects(api: Api) -> None:
    server = api.active()
    sid = server["id"]
    for method, path in [
        ("GET", f"/servers/{sid}"),
        ("DELETE", f"/servers/{sid}"),
        ("GET", f"/servers/{sid}/metadata"),
    ]:
        resp = api(method, path, "member-b")
        assert resp.status_code == 404, resp.text
        assert "itemNotFound" in resp.json()
    assert api.action(sid, {"os-stop": None}, "member-b").status_code == 404
    assert api.ok("GET", "/servers", "member-b")["servers"] == []
    assert api("GET", "/servers?all_tenants=1", "member-b").status_code == 403
    admin_all = api.ok("GET", "/servers/detail?all_tenants=1", "admin")["servers"]
    assert [s["id"] for s in admin_all] == [sid]
    assert api.ok("GET", "/servers", "admin")["servers"] == []  # admin's own project only without all_tenants
    assert api.ok("GET", f"/servers/detail?all_tenants=1&project_id={ADMIN_PROJECT}", "admin")["servers"] == []


def test_reader_can_read_but_not_create_or_delete(api: Api) -> None:
    server = api.active()
    assert api("GET", f"/servers/{server['id']}", "reader-a").status_code == 200
    resp = api("POST", "/servers", "reader-a", json={"server": {"name": "r", "imageRef": api.image_id,
                                                                "flavorRef": api.flavor_id}})  # fmt: skip
    assert resp.status_code == 403 and "forbidden" in resp.json()
    assert api("DELETE", f"/servers/{server['id']}", "reader-a").status_code == 403
    assert api.action(server["id"], {"os-stop": None}, "reader-a").status_code == 403


def test_unknown_server_ids(api: Api) -> None:
    assert api("GET", "/servers/not-a-uuid").status_code == 404
    assert api("GET", "/servers/6b1f7b8e-4a4e-4a8c-9d65-000000000000").status_code == 404
    assert api("DELETE", "/servers/6b1f7b8e-4a4e-4a8c-9d65-000000000000").status_code == 404
