"""System role assignments (``/v3/system/...``), system-scoped tokens and ``scope.system`` in role assignments."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stratus.identity.bootstrap import BootstrapResult
from tests.functional.identity.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, auth_headers


def _system_auth(user: str, password: str) -> dict:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {"user": {"name": user, "domain": {"id": "default"}, "password": password}},
            },
            "scope": {"system": {"all": True}},
        }
    }


def _system_token(client: TestClient, user: str, password: str) -> str:
    resp = client.post("/v3/auth/tokens", json=_system_auth(user, password))
    assert resp.status_code == 201, resp.text
    return resp.headers["X-Subject-Token"]


def test_system_grants_for_users(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    url = f"/v3/system/users/{boot.demo_user_id}/roles"
    assert client.get(url, headers=h).json()["roles"] == []
    assert client.head(f"{url}/{boot.reader_role_id}", headers=h).status_code == 404
    assert client.put(f"{url}/{boot.reader_role_id}", headers=h).status_code == 204
    assert client.put(f"{url}/{boot.reader_role_id}", headers=h).status_code == 204  # idempotent
    assert client.head(f"{url}/{boot.reader_role_id}", headers=h).status_code == 204
    assert client.get(f"{url}/{boot.reader_role_id}", headers=h).status_code == 204
    assert [r["id"] for r in client.get(url, headers=h).json()["roles"]] == [boot.reader_role_id]
    # Unknown user or role: 404; a non-admin cannot grant.
    assert client.put(f"/v3/system/users/nobody/roles/{boot.reader_role_id}", headers=h).status_code == 404
    assert client.put(f"{url}/nope", headers=h).status_code == 404
    demo = client.post("/v3/auth/tokens", json=_system_auth("demo", DEMO_PASSWORD)).headers["X-Subject-Token"]
    assert client.put(f"{url}/{boot.admin_role_id}", headers=auth_headers(demo)).status_code == 403
    assert client.delete(f"{url}/{boot.reader_role_id}", headers=h).status_code == 204
    assert client.delete(f"{url}/{boot.reader_role_id}", headers=h).status_code == 404


def test_system_scoped_token(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    # Without a system role the user cannot scope to the system.
    assert client.post("/v3/auth/tokens", json=_system_auth("demo", DEMO_PASSWORD)).status_code == 401
    assert client.put(f"/v3/system/users/{boot.demo_user_id}/roles/{boot.reader_role_id}", headers=h).status_code == 204
    resp = client.post("/v3/auth/tokens", json=_system_auth("demo", DEMO_PASSWORD))
    assert resp.status_code == 201, resp.text
    token = resp.json()["token"]
    assert token["system"] == {"all": True}
    assert "project" not in token and "domain" not in token
    assert [r["name"] for r in token["roles"]] == ["reader"]
    assert "catalog" in token
    subject = resp.headers["X-Subject-Token"]
    shown = client.get("/v3/auth/tokens", headers={**h, "X-Subject-Token": subject}).json()["token"]
    assert shown["system"] == {"all": True}
    # A system reader reads users, but cannot create any.
    sh = auth_headers(subject)
    assert client.get("/v3/users", headers=sh).status_code == 200
    assert client.post("/v3/users", headers=sh, json={"user": {"name": "nope"}}).status_code == 403
    assert client.get("/v3/auth/system", headers=sh).json()["system"] == [{"all": True}]
    # A token rescoped from it keeps the system scope.
    rescoped = client.post(
        "/v3/auth/tokens", json={"auth": {"identity": {"methods": ["token"], "token": {"id": subject}}}}
    )
    assert rescoped.status_code == 201 and rescoped.json()["token"]["system"] == {"all": True}
    # Removing the last system role invalidates the token.
    assert (
        client.delete(f"/v3/system/users/{boot.demo_user_id}/roles/{boot.reader_role_id}", headers=h).status_code == 204
    )
    assert client.get("/v3/auth/tokens", headers={**h, "X-Subject-Token": subject}).status_code == 404
    assert client.get("/v3/users", headers=sh).status_code == 401


def test_bootstrap_admin_is_system_admin(client: TestClient) -> None:
    token = _system_token(client, "admin", ADMIN_PASSWORD)
    h = auth_headers(token)
    assert client.post("/v3/domains", headers=h, json={"domain": {"name": "by-system-admin"}}).status_code == 201


def test_system_grants_for_groups_and_role_assignments(
    client: TestClient, admin_token: str, boot: BootstrapResult
) -> None:
    h = auth_headers(admin_token)
    group = client.post("/v3/groups", headers=h, json={"group": {"name": "ops"}}).json()["group"]
    assert client.put(f"/v3/groups/{group['id']}/users/{boot.demo_user_id}", headers=h).status_code == 204
    url = f"/v3/system/groups/{group['id']}/roles"
    assert client.put(f"{url}/{boot.member_role_id}", headers=h).status_code == 204
    assert client.head(f"{url}/{boot.member_role_id}", headers=h).status_code == 204
    assert [r["id"] for r in client.get(url, headers=h).json()["roles"]] == [boot.member_role_id]
    # The group's members can scope to the system with the group's role.
    token = client.post("/v3/auth/tokens", json=_system_auth("demo", DEMO_PASSWORD)).json()["token"]
    assert {r["name"] for r in token["roles"]} == {"member", "reader"}  # member implies reader
    listed = client.get("/v3/role_assignments?scope.system=all", headers=h).json()["role_assignments"]
    mine = [a for a in listed if a.get("group", {}).get("id") == group["id"]]
    assert mine == [
        {
            "role": {"id": boot.member_role_id},
            "group": {"id": group["id"]},
            "scope": {"system": {"all": True}},
            "links": {"assignment": f"http://testserver/v3/system/groups/{group['id']}/roles/{boot.member_role_id}"},
        }
    ]
    assert all("system" in a["scope"] for a in listed)
    effective = client.get(
        f"/v3/role_assignments?effective&user.id={boot.demo_user_id}&scope.system=all", headers=h
    ).json()["role_assignments"]
    assert {a["role"]["id"] for a in effective} >= {boot.member_role_id, boot.reader_role_id}
    # Project filters leave system assignments out.
    scoped = client.get(f"/v3/role_assignments?scope.project.id={boot.demo_project_id}", headers=h).json()
    assert all("project" in a["scope"] for a in scoped["role_assignments"])
    # Deleting the group removes its system grant.
    assert client.delete(f"/v3/groups/{group['id']}", headers=h).status_code == 204
    assert client.post("/v3/auth/tokens", json=_system_auth("demo", DEMO_PASSWORD)).status_code == 401
