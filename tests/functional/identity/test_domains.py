"""/v3/domains as an admin and as a project member."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.functional.identity.conftest import auth_headers


def test_default_domain_exists(client: TestClient, admin_token: str) -> None:
    resp = client.get("/v3/domains/default", headers=auth_headers(admin_token))
    assert resp.status_code == 200
    domain = resp.json()["domain"]
    assert (domain["id"], domain["name"], domain["enabled"]) == ("default", "Default", True)
    assert domain["links"]["self"].endswith("/v3/domains/default")


def test_create_list_filter_update(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    resp = client.post("/v3/domains", headers=h, json={"domain": {"name": "acme", "description": "d", "color": "red"}})
    assert resp.status_code == 201, resp.text
    created = resp.json()["domain"]
    assert created["color"] == "red" and created["enabled"] is True
    client.post("/v3/domains", headers=h, json={"domain": {"name": "off", "enabled": False}})

    names = [d["name"] for d in client.get("/v3/domains", headers=h).json()["domains"]]
    assert names == ["acme", "Default", "off"] or sorted(names) == ["Default", "acme", "off"]
    by_name = client.get("/v3/domains?name=acme", headers=h).json()
    assert [d["id"] for d in by_name["domains"]] == [created["id"]]
    assert "self" in by_name["links"]
    disabled = client.get("/v3/domains?enabled=false", headers=h).json()["domains"]
    assert [d["name"] for d in disabled] == ["off"]

    resp = client.patch(f"/v3/domains/{created['id']}", headers=h, json={"domain": {"description": "new"}})
    assert resp.status_code == 200
    assert resp.json()["domain"]["description"] == "new"
    assert resp.json()["domain"]["name"] == "acme"


def test_duplicate_name_conflicts(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    assert client.post("/v3/domains", headers=h, json={"domain": {"name": "dup"}}).status_code == 201
    resp = client.post("/v3/domains", headers=h, json={"domain": {"name": "dup"}})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == 409


def test_bad_bodies(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    for body in (
        {"domain": {}},
        {"domain": {"name": ""}},
        {"domain": {"name": 5}},
        {"domain": {"name": "x", "enabled": "yes"}},
        {},
    ):
        resp = client.post("/v3/domains", headers=h, json=body)
        assert resp.status_code == 400, (body, resp.text)
        assert resp.json()["error"]["title"] == "Bad Request"
    resp = client.post("/v3/domains", headers={**h, "Content-Type": "application/json"}, content=b"{not json")
    assert resp.status_code == 400


def test_delete_only_when_disabled(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    dom = client.post("/v3/domains", headers=h, json={"domain": {"name": "temp"}}).json()["domain"]
    proj = client.post("/v3/projects", headers=h, json={"project": {"name": "p", "domain_id": dom["id"]}}).json()
    resp = client.delete(f"/v3/domains/{dom['id']}", headers=h)
    assert resp.status_code == 403
    assert "Cannot delete a domain that is enabled" in resp.json()["error"]["message"]
    assert client.patch(f"/v3/domains/{dom['id']}", headers=h, json={"domain": {"enabled": False}}).status_code == 200
    assert client.delete(f"/v3/domains/{dom['id']}", headers=h).status_code == 204
    assert client.get(f"/v3/domains/{dom['id']}", headers=h).status_code == 404
    assert client.get(f"/v3/projects/{proj['project']['id']}", headers=h).status_code == 404


def test_unknown_domain_404(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    resp = client.get("/v3/domains/nope", headers=h)
    assert resp.status_code == 404
    assert resp.json()["error"]["message"] == "Could not find domain: nope."
    assert client.patch("/v3/domains/nope", headers=h, json={"domain": {"name": "x"}}).status_code == 404
    assert client.delete("/v3/domains/nope", headers=h).status_code == 404


def test_member_cannot_manage_domains(client: TestClient, demo_token: str) -> None:
    h = auth_headers(demo_token)
    assert client.get("/v3/domains", headers=h).status_code == 403
    assert client.post("/v3/domains", headers=h, json={"domain": {"name": "mine"}}).status_code == 403
    assert client.patch("/v3/domains/default", headers=h, json={"domain": {"name": "x"}}).status_code == 403
    # A user may look at the domain of its own project.
    assert client.get("/v3/domains/default", headers=h).status_code == 200


def test_requires_token(client: TestClient) -> None:
    resp = client.get("/v3/domains")
    assert resp.status_code == 401
    assert resp.json()["error"]["code"] == 401
