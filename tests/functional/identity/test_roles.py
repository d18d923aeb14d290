"""/v3/roles and implied roles."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stratus.identity.bootstrap import BootstrapResult
from tests.functional.identity.conftest import auth_headers


def _role(client: TestClient, token: str, **role: object) -> dict:
    resp = client.post("/v3/roles", headers=auth_headers(token), json={"role": role})
    assert resp.status_code == 201, resp.text
    return resp.json()["role"]


def test_bootstrap_roles_and_filters(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    roles = client.get("/v3/roles", headers=h).json()["roles"]
    assert sorted(r["name"] for r in roles) == ["admin", "manager", "member", "reader", "service"]
    assert all(r["domain_id"] is None for r in roles)
    assert [r["name"] for r in client.get("/v3/roles?name=reader", headers=h).json()["roles"]] == ["reader"]


def test_crud(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    role = _role(client, admin_token, name="auditor", description="reads logs")
    assert role["domain_id"] is None and role["links"]["self"].endswith(role["id"])
    assert client.post("/v3/roles", headers=h, json={"role": {"name": "auditor"}}).status_code == 409
    domain_role = _role(client, admin_token, name="auditor", domain_id="default")  # same name, other namespace
    assert domain_role["domain_id"] == "default"
    assert [r["id"] for r in client.get("/v3/roles?domain_id=default", headers=h).json()["roles"]] == [
        domain_role["id"]
    ]
    resp = client.patch(f"/v3/roles/{role['id']}", headers=h, json={"role": {"name": "auditor2"}})
    assert resp.status_code == 200 and resp.json()["role"]["name"] == "auditor2"
    assert client.post("/v3/roles", headers=h, json={"role": {"name": "x", "domain_id": "nope"}}).status_code == 400
    assert client.post("/v3/roles", headers=h, json={"role": {"name": 3}}).status_code == 400
    assert client.delete(f"/v3/roles/{role['id']}", headers=h).status_code == 204
    assert client.get(f"/v3/roles/{role['id']}", headers=h).status_code == 404


def test_implied_roles(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    a, b = _role(client, admin_token, name="a"), _role(client, admin_token, name="b")
    url = f"/v3/roles/{a['id']}/implies/{b['id']}"
    assert client.head(url, headers=h).status_code == 404
    resp = client.put(url, headers=h)
    assert resp.status_code == 201, resp.text
    inference = resp.json()["role_inference"]
    assert (inference["prior_role"]["id"], inference["implies"]["id"]) == (a["id"], b["id"])
    assert client.head(url, headers=h).status_code == 204
    assert client.get(url, headers=h).json()["role_inference"]["implies"]["name"] == "b"
    listed = client.get(f"/v3/roles/{a['id']}/implies", headers=h).json()["role_inference"]
    assert [r["id"] for r in listed["implies"]] == [b["id"]]
    # Cycles are refused.
    assert client.put(f"/v3/roles/{b['id']}/implies/{a['id']}", headers=h).status_code == 400
    assert client.put(f"/v3/roles/{a['id']}/implies/{a['id']}", headers=h).status_code == 400
    assert client.put(f"/v3/roles/{a['id']}/implies/nope", headers=h).status_code == 404
    rules = client.get("/v3/role_inferences", headers=h).json()["role_inferences"]
    pairs = {(r["prior_role"]["id"], i["id"]) for r in rules for i in r["implies"]}
    assert (a["id"], b["id"]) in pairs
    for prior, implied in (("admin", "manager"), ("manager", "member"), ("member", "reader")):
        assert (getattr(boot, f"{prior}_role_id"), getattr(boot, f"{implied}_role_id")) in pairs
    assert client.delete(url, headers=h).status_code == 204
    assert client.delete(url, headers=h).status_code == 404


def test_member_can_read_but_not_write_roles(client: TestClient, demo_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(demo_token)
    assert client.get("/v3/roles", headers=h).status_code == 200
    assert client.get(f"/v3/roles/{boot.reader_role_id}", headers=h).status_code == 200
    assert client.post("/v3/roles", headers=h, json={"role": {"name": "mine"}}).status_code == 403
    assert client.delete(f"/v3/roles/{boot.reader_role_id}", headers=h).status_code == 403
    assert client.put(f"/v3/roles/{boot.reader_role_id}/implies/{boot.admin_role_id}", headers=h).status_code == 403
