"""Tenant isolation: a project member sees and changes only what its roles allow; failures write nothing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from stratus.identity import models
from stratus.identity.bootstrap import BootstrapResult
from stratus.identity.service import IdentityService
from tests.functional.identity.conftest import auth_headers, password_token


@dataclass
class World:
    p1: str
    p2: str
    u1: str
    u2: str
    reader: str
    u1_token: str
    reader_token: str


def _post(client: TestClient, h: dict, kind: str, **body: object) -> dict:
    resp = client.post(f"/v3/{kind}s", headers=h, json={kind: body})
    assert resp.status_code == 201, resp.text
    return resp.json()[kind]


@pytest.fixture
def world(client: TestClient, admin_token: str, boot: BootstrapResult) -> World:
    h = auth_headers(admin_token)
    p1, p2 = _post(client, h, "project", name="p1")["id"], _post(client, h, "project", name="p2")["id"]
    u1 = _post(client, h, "user", name="u1", password="pw1")["id"]
    u2 = _post(client, h, "user", name="u2", password="pw2")["id"]
    reader = _post(client, h, "user", name="r1", password="pw3")["id"]
    for project, user, role in (
        (p1, u1, boot.member_role_id),
        (p2, u2, boot.member_role_id),
        (p1, reader, boot.reader_role_id),
    ):
        assert client.put(f"/v3/projects/{project}/users/{user}/roles/{role}", headers=h).status_code == 204
    return World(
        p1,
        p2,
        u1,
        u2,
        reader,
        password_token(client, "u1", "pw1", project="p1"),
        password_token(client, "r1", "pw3", project="p1"),
    )


def test_member_cannot_list_users_or_create_projects(client: TestClient, world: World) -> None:
    h = auth_headers(world.u1_token)
    for path in ("/v3/users", "/v3/users?domain_id=default", "/v3/projects", "/v3/groups", "/v3/role_assignments"):
        resp = client.get(path, headers=h)
        assert resp.status_code == 403, path
        assert resp.json()["error"]["title"] == "Forbidden"
    assert client.post("/v3/projects", headers=h, json={"project": {"name": "mine"}}).status_code == 403
    assert client.post("/v3/users", headers=h, json={"user": {"name": "friend"}}).status_code == 403


def test_member_sees_nothing_of_another_project(client: TestClient, world: World, admin_token: str) -> None:
    h = auth_headers(world.u1_token)
    assert client.get(f"/v3/projects/{world.p1}", headers=h).status_code == 200
    assert client.get(f"/v3/users/{world.u1}", headers=h).status_code == 200
    assert client.get(f"/v3/projects/{world.p2}", headers=h).status_code == 403
    assert client.get(f"/v3/users/{world.u2}", headers=h).status_code == 403
    assert client.get(f"/v3/users/{world.u2}/projects", headers=h).status_code == 403
    assert client.get(f"/v3/users/{world.u2}/groups", headers=h).status_code == 403
    assert client.get(f"/v3/role_assignments?scope.project.id={world.p2}", headers=h).status_code == 403
    assert client.get(f"/v3/projects/{world.p2}/users/{world.u2}/roles", headers=h).status_code == 403
    # Not even whether an id exists leaks: unknown ids are 403 too.
    assert client.get("/v3/projects/does-not-exist", headers=h).status_code == 403
    # Its own project list holds only p1.
    mine = client.get(f"/v3/users/{world.u1}/projects", headers=h).json()["projects"]
    assert [p["id"] for p in mine] == [world.p1]
    # It cannot get a token for p2 (no role there), nor grant itself one.
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": world.u1_token}},
            "scope": {"project": {"id": world.p2}},
        }
    }
    assert client.post("/v3/auth/tokens", json=body).status_code == 401
    member = client.get("/v3/roles?name=member", headers=h).json()["roles"][0]["id"]
    grant = f"/v3/projects/{world.p2}/users/{world.u1}/roles/{member}"
    assert client.put(grant, headers=h).status_code == 403
    assert client.head(grant, headers=auth_headers(admin_token)).status_code == 404
    # Nor look at someone else's token.
    other = password_token(client, "u2", "pw2", project="p2")
    assert client.get("/v3/auth/tokens", headers={**h, "X-Subject-Token": other}).status_code == 403


def test_reader_cannot_write(client: TestClient, world: World) -> None:
    h = auth_headers(world.reader_token)
    assert client.get(f"/v3/projects/{world.p1}", headers=h).status_code == 200
    writes = [
        ("patch", f"/v3/projects/{world.p1}", {"project": {"description": "x"}}),
        ("delete", f"/v3/projects/{world.p1}", None),
        ("post", "/v3/users", {"user": {"name": "x"}}),
        ("patch", f"/v3/users/{world.u1}", {"user": {"enabled": False}}),
        ("delete", f"/v3/users/{world.u1}", None),
        ("post", "/v3/groups", {"group": {"name": "x"}}),
        ("post", "/v3/roles", {"role": {"name": "x"}}),
        ("post", "/v3/domains", {"domain": {"name": "x"}}),
        ("post", "/v3/services", {"service": {"type": "x"}}),
        ("put", f"/v3/projects/{world.p1}/users/{world.reader}/roles/x", None),
    ]
    for method, path, body in writes:
        kwargs = {"json": body} if body is not None else {}
        resp = client.request(method.upper(), path, headers=h, **kwargs)
        assert resp.status_code == 403, (method, path, resp.text)


def _user_count(identity: IdentityService) -> int:
    with identity.db.reader() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(models.User)) or 0


def test_failed_requests_write_nothing(
    client: TestClient, admin_token: str, identity: IdentityService, world: World, boot: BootstrapResult
) -> None:
    h = auth_headers(admin_token)
    before = _user_count(identity)
    resp = client.post("/v3/users", headers=h, json={"user": {"name": "ghost", "default_project_id": "missing"}})
    assert resp.status_code in (400, 404)
    assert client.get("/v3/users?name=ghost", headers=h).json()["users"] == []
    assert _user_count(identity) == before
    # A PATCH that fails validation half-way leaves password and revocations untouched.
    with identity.db.reader() as session:
        old_hash = session.get(models.User, world.u1).password_hash
        events = session.scalar(sa.select(sa.func.count()).select_from(models.RevocationEvent))
    body = {"user": {"password": "new", "default_project_id": "missing"}}
    assert client.patch(f"/v3/users/{world.u1}", headers=h, json=body).status_code == 400
    with identity.db.reader() as session:
        assert session.get(models.User, world.u1).password_hash == old_hash
        assert session.scalar(sa.select(sa.func.count()).select_from(models.RevocationEvent)) == events
    # A grant naming an unknown role writes no assignment.
    assert client.put(f"/v3/projects/{world.p1}/users/{world.u1}/roles/nope", headers=h).status_code == 404
    with identity.db.reader() as session:
        stmt = sa.select(sa.func.count()).select_from(models.Assignment).where(models.Assignment.role_id == "nope")
        assert session.scalar(stmt) == 0
    # A rename onto an existing name is a 409 and the name stays.
    assert client.patch(f"/v3/users/{world.u1}", headers=h, json={"user": {"name": "u2"}}).status_code == 409
    assert client.get(f"/v3/users/{world.u1}", headers=h).json()["user"]["name"] == "u1"


def test_project_disable_revokes_its_tokens(client: TestClient, admin_token: str, world: World) -> None:
    h = auth_headers(admin_token)
    assert client.patch(f"/v3/projects/{world.p1}", headers=h, json={"project": {"enabled": False}}).status_code == 200
    assert client.get(f"/v3/projects/{world.p1}", headers=auth_headers(world.u1_token)).status_code == 401
    assert client.get("/v3/auth/tokens", headers={**h, "X-Subject-Token": world.u1_token}).status_code == 404


def test_domain_reader_reads_its_domain_only(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    other = _post(client, h, "domain", name="other")["id"]
    user = _post(client, h, "user", name="dr", password="pw")["id"]
    assert client.put(f"/v3/domains/default/users/{user}/roles/{boot.reader_role_id}", headers=h).status_code == 204
    user_ref = {"name": "dr", "domain": {"id": "default"}, "password": "pw"}
    auth = {
        "identity": {"methods": ["password"], "password": {"user": user_ref}},
        "scope": {"domain": {"id": "default"}},
    }
    resp = client.post("/v3/auth/tokens", json={"auth": auth})
    assert resp.status_code == 201, resp.text
    dh = auth_headers(resp.headers["X-Subject-Token"])
    assert client.get("/v3/users", headers=dh).status_code == 200  # defaults to its own domain
    assert client.get("/v3/users?domain_id=default", headers=dh).status_code == 200
    assert client.get(f"/v3/users?domain_id={other}", headers=dh).status_code == 403
    assert client.get(f"/v3/projects/{boot.demo_project_id}", headers=dh).status_code == 200
    assert client.get("/v3/role_assignments?scope.domain.id=default", headers=dh).status_code == 200
    assert client.post("/v3/users", headers=dh, json={"user": {"name": "x"}}).status_code == 403
    assert client.post("/v3/projects", headers=dh, json={"project": {"name": "x"}}).status_code == 403
