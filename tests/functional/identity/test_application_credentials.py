"""Application credentials: create, authenticate with, list, delete (which revokes its tokens)."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.functional.identity.conftest import auth_headers


def app_cred_auth(cred_id: str, secret: str) -> dict:
    return {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {"id": cred_id, "secret": secret},
            }
        }
    }


def create(client: TestClient, token: str, user_id: str, **fields: object) -> dict:
    resp = client.post(
        f"/v3/users/{user_id}/application_credentials",
        json={"application_credential": {"name": "ac1", **fields}},
        headers=auth_headers(token),
    )
    assert resp.status_code == 201, resp.text
    return resp.json()["application_credential"]


def test_create_and_authenticate(client: TestClient, boot, demo_token: str) -> None:
    cred = create(client, demo_token, boot.demo_user_id, description="ci")
    assert cred["project_id"] == boot.demo_project_id and cred["secret"]
    assert {r["name"] for r in cred["roles"]} >= {"member", "reader"}
    resp = client.post("/v3/auth/tokens", json=app_cred_auth(cred["id"], cred["secret"]))
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert token["project"]["id"] == boot.demo_project_id
    assert token["application_credential"]["id"] == cred["id"]
    assert token["methods"] == ["application_credential"]
    by_name = {
        "auth": {
            "identity": {
                "methods": ["application_credential"],
                "application_credential": {
                    "name": "ac1",
                    "secret": cred["secret"],
                    "user": {"name": "demo", "domain": {"name": "Default"}},
                },
            }
        }
    }
    assert client.post("/v3/auth/tokens", json=by_name).status_code == 201
    assert client.post("/v3/auth/tokens", json=app_cred_auth(cred["id"], "wrong")).status_code == 401


def test_restricted_roles_and_duplicates(client: TestClient, boot, demo_token: str) -> None:
    cred = create(client, demo_token, boot.demo_user_id, roles=[{"name": "reader"}])
    token = client.post("/v3/auth/tokens", json=app_cred_auth(cred["id"], cred["secret"])).json()["token"]
    assert [r["name"] for r in token["roles"]] == ["reader"]
    dup = client.post(
        f"/v3/users/{boot.demo_user_id}/application_credentials",
        json={"application_credential": {"name": "ac1"}},
        headers=auth_headers(demo_token),
    )
    assert dup.status_code == 409
    admin_role = client.post(
        f"/v3/users/{boot.demo_user_id}/application_credentials",
        json={"application_credential": {"name": "ac2", "roles": [{"name": "admin"}]}},
        headers=auth_headers(demo_token),
    )
    assert admin_role.status_code == 403


def test_other_users_cannot_see_or_create(client: TestClient, boot, demo_token: str, admin_token: str) -> None:
    url = f"/v3/users/{boot.admin_user_id}/application_credentials"
    assert client.get(url, headers=auth_headers(demo_token)).status_code == 403
    resp = client.post(url, json={"application_credential": {"name": "x"}}, headers=auth_headers(demo_token))
    assert resp.status_code == 403
    bad = client.post(url, json={"application_credential": {"name": 7}}, headers=auth_headers(admin_token))
    assert bad.status_code == 400


def test_delete_revokes_its_tokens(client: TestClient, boot, demo_token: str) -> None:
    cred = create(client, demo_token, boot.demo_user_id)
    token = client.post("/v3/auth/tokens", json=app_cred_auth(cred["id"], cred["secret"])).headers["X-Subject-Token"]
    listed = client.get(f"/v3/users/{boot.demo_user_id}/application_credentials", headers=auth_headers(demo_token))
    assert [c["name"] for c in listed.json()["application_credentials"]] == ["ac1"]
    assert "secret" not in listed.json()["application_credentials"][0]
    url = f"/v3/users/{boot.demo_user_id}/application_credentials/{cred['id']}"
    assert client.delete(url, headers=auth_headers(demo_token)).status_code == 204
    assert client.get("/v3/auth/catalog", headers=auth_headers(token)).status_code == 401
    assert client.get(url, headers=auth_headers(demo_token)).status_code == 404
    assert client.post("/v3/auth/tokens", json=app_cred_auth(cred["id"], cred["secret"])).status_code == 401
