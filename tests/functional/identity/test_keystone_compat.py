"""Keystone behaviours Tempest checks: project tags, name limits, domain roles, projects acting as domains."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stratus.identity.bootstrap import BootstrapResult
from tests.functional.identity.conftest import DEMO_PASSWORD, auth_headers, password_token


def _post(client: TestClient, token: str, kind: str, **body: object) -> dict:
    resp = client.post(f"/v3/{kind}s", headers=auth_headers(token), json={kind: body})
    assert resp.status_code == 201, resp.text
    return resp.json()[kind]


def test_project_tags(client: TestClient, admin_token: str, demo_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    project = _post(client, admin_token, "project", name="tagged")
    url = f"/v3/projects/{project['id']}/tags"
    resp = client.put(f"{url}/one", headers=h)
    assert resp.status_code == 201 and resp.content == b"" and resp.headers["Location"].endswith(f"{url}/one")
    assert client.get(f"{url}/one", headers=h).status_code == 204
    assert client.head(f"{url}/one", headers=h).status_code == 204
    assert client.get(f"{url}/two", headers=h).status_code == 404
    resp = client.put(url, headers=h, json={"tags": ["a", "b", "c"]})
    assert resp.status_code == 200 and resp.json()["tags"] == ["a", "b", "c"]
    assert client.get(url, headers=h).json()["tags"] == ["a", "b", "c"]
    assert client.get(f"/v3/projects/{project['id']}", headers=h).json()["project"]["tags"] == ["a", "b", "c"]
    assert client.delete(f"{url}/a", headers=h).status_code == 204
    assert client.delete(f"{url}/a", headers=h).status_code == 404
    assert client.get(url, headers=h).json()["tags"] == ["b", "c"]
    for bad in (["x/y"], ["x,y"], [""], ["t" * 256], [f"t{i}" for i in range(81)], "notalist"):
        assert client.put(url, headers=h, json={"tags": bad}).status_code == 400, bad
    assert client.put(f"{url}/a,b", headers=h).status_code == 400
    assert client.delete(url, headers=h).status_code == 204
    assert client.get(url, headers=h).json()["tags"] == []
    assert client.get("/v3/projects/nope/tags", headers=h).status_code == 404
    # Members of the project read its tags; only admins change them.
    dh, demo_url = auth_headers(demo_token), f"/v3/projects/{boot.demo_project_id}/tags"
    assert client.get(demo_url, headers=dh).status_code == 200
    assert client.put(f"{demo_url}/mine", headers=dh).status_code == 403


def test_name_limits(client: TestClient, admin_token: str) -> None:
    """Keystone: project and domain names are 1-64 characters; users, groups and roles 1-255."""
    h = auth_headers(admin_token)
    for kind in ("project", "domain"):
        assert client.post(f"/v3/{kind}s", headers=h, json={kind: {"name": "n" * 65}}).status_code == 400
        assert client.post(f"/v3/{kind}s", headers=h, json={kind: {"name": " "}}).status_code == 400
        entity = _post(client, admin_token, kind, name="n" * 64)
        resp = client.patch(f"/v3/{kind}s/{entity['id']}", headers=h, json={kind: {"name": "m" * 65}})
        assert resp.status_code == 400
    for kind in ("user", "group", "role"):
        assert client.post(f"/v3/{kind}s", headers=h, json={kind: {"name": "n" * 256}}).status_code == 400
        _post(client, admin_token, kind, name="n" * 255)


def test_domain_without_description(client: TestClient, admin_token: str) -> None:
    assert _post(client, admin_token, "domain", name="plain")["description"] == ""


def test_patch_may_repeat_the_id(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    url = f"/v3/users/{boot.demo_user_id}"
    resp = client.patch(url, headers=h, json={"user": {"id": boot.demo_user_id, "enabled": False}})
    assert resp.status_code == 200 and resp.json()["user"]["enabled"] is False
    assert client.patch(url, headers=h, json={"user": {"id": "other"}}).status_code == 400
    # A disabled user cannot authenticate.
    auth = {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"id": boot.demo_user_id, "password": DEMO_PASSWORD}},
        }
    }
    assert client.post("/v3/auth/tokens", json={"auth": auth}).status_code == 401


def test_domain_roles_are_never_effective(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    role = _post(client, admin_token, "role", name="dr", domain_id="default")
    grant = f"/v3/projects/{boot.demo_project_id}/users/{boot.demo_user_id}/roles/{role['id']}"
    assert client.put(grant, headers=h).status_code == 204
    query = f"/v3/role_assignments?effective&user.id={boot.demo_user_id}&scope.project.id={boot.demo_project_id}"
    roles = {a["role"]["id"] for a in client.get(query, headers=h).json()["role_assignments"]}
    assert role["id"] not in roles and boot.member_role_id in roles
    # ... but what they imply is.
    assert client.put(f"/v3/roles/{role['id']}/implies/{boot.admin_role_id}", headers=h).status_code == 201
    roles = {a["role"]["id"] for a in client.get(query, headers=h).json()["role_assignments"]}
    assert role["id"] not in roles and boot.admin_role_id in roles
    token = client.post(
        "/v3/auth/tokens",
        json={
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {"user": {"id": boot.demo_user_id, "password": DEMO_PASSWORD}},
                },
                "scope": {"project": {"id": boot.demo_project_id}},
            }
        },
    ).json()["token"]
    assert "dr" not in {r["name"] for r in token["roles"]} and "admin" in {r["name"] for r in token["roles"]}


def test_implied_domain_roles(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    other = _post(client, admin_token, "domain", name="other")
    d1 = _post(client, admin_token, "role", name="d1", domain_id="default")
    d2 = _post(client, admin_token, "role", name="d2", domain_id="default")
    d3 = _post(client, admin_token, "role", name="d3", domain_id=other["id"])
    glob = _post(client, admin_token, "role", name="global")
    assert client.put(f"/v3/roles/{d1['id']}/implies/{d2['id']}", headers=h).status_code == 201
    assert client.put(f"/v3/roles/{d1['id']}/implies/{d3['id']}", headers=h).status_code == 201
    assert client.put(f"/v3/roles/{d1['id']}/implies/{glob['id']}", headers=h).status_code == 201
    assert client.put(f"/v3/roles/{glob['id']}/implies/{d1['id']}", headers=h).status_code == 403


def test_project_acting_as_domain(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    project = _post(client, admin_token, "project", name="dom", is_domain=True)
    assert (project["is_domain"], project["domain_id"], project["parent_id"]) == (True, None, None)
    assert project["id"] in {p["id"] for p in client.get("/v3/projects?is_domain=true", headers=h).json()["projects"]}
    assert project["id"] in {d["id"] for d in client.get("/v3/domains", headers=h).json()["domains"]}
    assert client.get(f"/v3/projects/{project['id']}", headers=h).json()["project"]["is_domain"] is True
    assert client.delete(f"/v3/projects/{project['id']}", headers=h).status_code == 403  # enabled
    resp = client.patch(f"/v3/projects/{project['id']}", headers=h, json={"project": {"enabled": False}})
    assert resp.status_code == 200 and resp.json()["project"]["enabled"] is False
    assert client.delete(f"/v3/projects/{project['id']}", headers=h).status_code == 204
    assert client.get(f"/v3/domains/{project['id']}", headers=h).status_code == 404


def test_password_token_still_works(client: TestClient) -> None:
    assert password_token(client, "demo", DEMO_PASSWORD, project="demo")
