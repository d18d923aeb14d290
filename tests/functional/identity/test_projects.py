"""/v3/projects: CRUD, hierarchy, tags, filters, and a user's projects."""

from __future__ import annotations

from fastapi.testclient import TestClient

from stratus.identity.bootstrap import BootstrapResult
from tests.functional.identity.conftest import auth_headers


def _create(client: TestClient, token: str, **project: object) -> dict:
    resp = client.post("/v3/projects", headers=auth_headers(token), json={"project": project})
    assert resp.status_code == 201, resp.text
    return resp.json()["project"]


def test_create_defaults_and_show(client: TestClient, admin_token: str) -> None:
    project = _create(client, admin_token, name="alpha", tags=["a", "b"], cost_center="42")
    assert project["domain_id"] == "default"
    assert project["parent_id"] == "default"
    assert project["enabled"] is True and project["is_domain"] is False
    assert project["tags"] == ["a", "b"] and project["cost_center"] == "42"
    shown = client.get(f"/v3/projects/{project['id']}", headers=auth_headers(admin_token)).json()["project"]
    assert shown == project


def test_hierarchy_and_filters(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    parent = _create(client, admin_token, name="parent")
    child = _create(client, admin_token, name="child", parent_id=parent["id"], enabled=False)
    assert child["parent_id"] == parent["id"] and child["domain_id"] == "default"

    def names(query: str) -> list[str]:
        resp = client.get(f"/v3/projects{query}", headers=h)
        assert resp.status_code == 200, resp.text
        return sorted(p["name"] for p in resp.json()["projects"])

    assert names(f"?parent_id={parent['id']}") == ["child"]
    assert names("?name=child") == ["child"]
    assert names("?enabled=false") == ["child"]
    assert names("?domain_id=default") == ["admin", "child", "demo", "parent"]
    assert names("?domain_id=nope") == []
    assert names("?is_domain=true") == ["Default"]  # domains, seen as projects acting as domains
    assert names("?tags=x") == []
    # A parent with children cannot be deleted.
    assert client.delete(f"/v3/projects/{parent['id']}", headers=h).status_code == 403
    assert client.delete(f"/v3/projects/{child['id']}", headers=h).status_code == 204
    assert client.delete(f"/v3/projects/{parent['id']}", headers=h).status_code == 204


def test_update(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    project = _create(client, admin_token, name="p1")
    resp = client.patch(
        f"/v3/projects/{project['id']}", headers=h, json={"project": {"description": "x", "tags": ["t"], "k": 1}}
    )
    assert resp.status_code == 200, resp.text
    updated = resp.json()["project"]
    assert (updated["description"], updated["tags"], updated["k"], updated["name"]) == ("x", ["t"], 1, "p1")
    assert (
        client.patch(f"/v3/projects/{project['id']}", headers=h, json={"project": {"domain_id": "x"}}).status_code
        == 400
    )
    assert (
        client.patch(f"/v3/projects/{project['id']}", headers=h, json={"project": {"enabled": "no"}}).status_code == 400
    )
    assert client.patch("/v3/projects/nope", headers=h, json={"project": {"name": "x"}}).status_code == 404


def test_conflicts_and_bad_input(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    _create(client, admin_token, name="same")
    assert client.post("/v3/projects", headers=h, json={"project": {"name": "same"}}).status_code == 409
    other = client.post("/v3/domains", headers=h, json={"domain": {"name": "other"}}).json()["domain"]
    _create(client, admin_token, name="same", domain_id=other["id"])  # other domain: fine
    for body in (
        {"project": {}},
        {"project": {"name": 1}},
        {"project": {"name": "x", "domain_id": "missing"}},
        {"project": {"name": "x", "parent_id": "missing"}},
        {"project": {"name": "x", "tags": "notalist"}},
        {"project": {"name": "x", "tags": ["bad/tag"]}},
        {"project": {"name": "x", "is_domain": True, "parent_id": "default"}},
        {"project": {"name": "x", "id": "chosen"}},
        {"project": {"name": "x" * 65}},
        {"project": {"name": "   "}},
    ):
        resp = client.post("/v3/projects", headers=h, json=body)
        assert resp.status_code == 400, (body, resp.text)
    assert client.get("/v3/projects?name=x", headers=h).json()["projects"] == []


def test_delete_removes_assignments(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    project = _create(client, admin_token, name="gone")
    url = f"/v3/projects/{project['id']}/users/{boot.demo_user_id}/roles/{boot.member_role_id}"
    assert client.put(url, headers=h).status_code == 204
    assert client.delete(f"/v3/projects/{project['id']}", headers=h).status_code == 204
    assert client.get(f"/v3/projects/{project['id']}", headers=h).status_code == 404
    left = client.get(f"/v3/role_assignments?scope.project.id={project['id']}", headers=h).json()
    assert left["role_assignments"] == []


def test_user_projects(client: TestClient, admin_token: str, demo_token: str, boot: BootstrapResult) -> None:
    resp = client.get(f"/v3/users/{boot.demo_user_id}/projects", headers=auth_headers(demo_token))
    assert resp.status_code == 200
    assert [p["name"] for p in resp.json()["projects"]] == ["demo"]
    assert client.get(f"/v3/users/{boot.admin_user_id}/projects", headers=auth_headers(demo_token)).status_code == 403
    admin_view = client.get(f"/v3/users/{boot.admin_user_id}/projects", headers=auth_headers(admin_token)).json()
    assert [p["name"] for p in admin_view["projects"]] == ["admin"]
    assert client.get("/v3/users/nope/projects", headers=auth_headers(admin_token)).status_code == 404


def test_member_can_see_own_project_only(client: TestClient, demo_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(demo_token)
    assert client.get(f"/v3/projects/{boot.demo_project_id}", headers=h).status_code == 200
    assert client.get(f"/v3/projects/{boot.admin_project_id}", headers=h).status_code == 403
    assert client.get("/v3/projects", headers=h).status_code == 403
    assert client.post("/v3/projects", headers=h, json={"project": {"name": "mine"}}).status_code == 403
    assert (
        client.patch(f"/v3/projects/{boot.demo_project_id}", headers=h, json={"project": {"name": "z"}}).status_code
        == 403
    )
    assert client.delete(f"/v3/projects/{boot.demo_project_id}", headers=h).status_code == 403
