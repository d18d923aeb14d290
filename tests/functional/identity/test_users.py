"""/v3/users: CRUD, passwords (never returned, bcrypt), filters, and the revocations they cause."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from stratus.identity.bootstrap import BootstrapResult
from stratus.identity.models import RevocationEvent, User
from stratus.identity.service import IdentityService
from tests.functional.identity.conftest import DEMO_PASSWORD, auth_headers, password_token


def _create(client: TestClient, token: str, **user: object) -> dict:
    resp = client.post("/v3/users", headers=auth_headers(token), json={"user": user})
    assert resp.status_code == 201, resp.text
    return resp.json()["user"]


def _events(identity: IdentityService, user_id: str) -> int:
    with identity.db.reader() as session:
        stmt = sa.select(sa.func.count()).select_from(RevocationEvent).where(RevocationEvent.user_id == user_id)
        return session.scalar(stmt) or 0


def test_create_shape(client: TestClient, admin_token: str, boot: BootstrapResult, identity: IdentityService) -> None:
    user = _create(
        client,
        admin_token,
        name="alice",
        password="s3cret",
        email="a@example.org",
        default_project_id=boot.demo_project_id,
    )
    assert user["domain_id"] == "default" and user["enabled"] is True
    assert user["email"] == "a@example.org"
    assert user["default_project_id"] == boot.demo_project_id
    assert user["password_expires_at"] is None and user["options"] == {}
    assert "password" not in user and "password_hash" not in user
    assert user["links"]["self"].endswith(f"/v3/users/{user['id']}")
    with identity.db.reader() as session:
        stored = session.get(User, user["id"]).password_hash
    assert stored.startswith("$2") and "s3cret" not in stored
    shown = client.get(f"/v3/users/{user['id']}", headers=auth_headers(admin_token)).json()["user"]
    assert shown == user


def test_new_user_can_authenticate(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    user = _create(client, admin_token, name="bob", password="bobpass")
    h = auth_headers(admin_token)
    url = f"/v3/projects/{boot.demo_project_id}/users/{user['id']}/roles/{boot.member_role_id}"
    assert client.put(url, headers=h).status_code == 204
    assert password_token(client, "bob", "bobpass", project="demo")


def test_filters(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    _create(client, admin_token, name="on1")
    _create(client, admin_token, name="off1", enabled=False)
    names = lambda q: sorted(u["name"] for u in client.get(f"/v3/users{q}", headers=h).json()["users"])  # noqa: E731
    assert names("") == ["admin", "demo", "off1", "on1"]
    assert names("?name=on1") == ["on1"]
    assert names("?enabled=false") == ["off1"]
    assert names("?domain_id=default") == ["admin", "demo", "off1", "on1"]
    assert names("?domain_id=other") == []
    assert client.get("/v3/users?enabled=maybe", headers=h).status_code == 400


def test_duplicate_and_bad_input(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    _create(client, admin_token, name="carol")
    assert client.post("/v3/users", headers=h, json={"user": {"name": "carol"}}).status_code == 409
    for body in (
        {"user": {}},
        {"user": {"name": ""}},
        {"user": {"name": ["x"]}},
        {"user": {"name": "x", "enabled": 1}},
        {"user": {"name": "x", "password": 123}},
        {"user": {"name": "x", "default_project_id": "nowhere"}},
        {"user": "x"},
        {"user": {"name": "nul\u0000byte"}},
    ):
        resp = client.post("/v3/users", headers=h, json=body)
        assert resp.status_code == 400, (body, resp.text)
        assert set(resp.json()["error"]) == {"code", "title", "message"}
    # As Keystone: a user in a domain that does not exist is a 404 (the domain is not found), not a 400.
    assert client.post("/v3/users", headers=h, json={"user": {"name": "x", "domain_id": "nowhere"}}).status_code == 404
    assert client.get("/v3/users?name=x", headers=h).json()["users"] == []
    raw = b'{"user": {"name": "x", "note": NaN}}'
    assert client.post("/v3/users", headers={**h, "Content-Type": "application/json"}, content=raw).status_code == 400
    assert client.get("/v3/users?name=a%00b", headers=h).status_code == 400
    assert client.get("/v3/users/a%00b", headers=h).status_code == 400


def test_update_and_admin_password_reset(
    client: TestClient, admin_token: str, identity: IdentityService, boot: BootstrapResult
) -> None:
    h = auth_headers(admin_token)
    resp = client.patch(
        f"/v3/users/{boot.demo_user_id}", headers=h, json={"user": {"email": "demo@x", "description": "d"}}
    )
    assert resp.status_code == 200, resp.text
    assert (resp.json()["user"]["email"], resp.json()["user"]["description"]) == ("demo@x", "d")
    assert _events(identity, boot.demo_user_id) == 0  # nothing security-relevant changed
    resp = client.patch(f"/v3/users/{boot.demo_user_id}", headers=h, json={"user": {"password": "reset-pw"}})
    assert resp.status_code == 200
    assert _events(identity, boot.demo_user_id) == 1
    assert password_token(client, "demo", "reset-pw", project="demo")
    assert client.post("/v3/auth/tokens", json=_auth("demo", DEMO_PASSWORD)).status_code == 401
    assert client.patch("/v3/users/nope", headers=h, json={"user": {"name": "x"}}).status_code == 404
    assert (
        client.patch(f"/v3/users/{boot.demo_user_id}", headers=h, json={"user": {"domain_id": "x"}}).status_code == 400
    )


def _auth(name: str, password: str) -> dict:
    user = {"name": name, "domain": {"id": "default"}, "password": password}
    return {"auth": {"identity": {"methods": ["password"], "password": {"user": user}}}}


def test_disable_revokes_tokens(
    client: TestClient, admin_token: str, demo_token: str, identity: IdentityService, boot: BootstrapResult
) -> None:
    h = auth_headers(admin_token)
    assert client.get("/v3/auth/tokens", headers={**h, "X-Subject-Token": demo_token}).status_code == 200
    resp = client.patch(f"/v3/users/{boot.demo_user_id}", headers=h, json={"user": {"enabled": False}})
    assert resp.status_code == 200 and resp.json()["user"]["enabled"] is False
    assert _events(identity, boot.demo_user_id) == 1
    assert client.get("/v3/auth/tokens", headers={**h, "X-Subject-Token": demo_token}).status_code == 404
    assert client.get(f"/v3/users/{boot.demo_user_id}", headers=auth_headers(demo_token)).status_code == 401


def test_change_own_password(
    client: TestClient, demo_token: str, identity: IdentityService, boot: BootstrapResult
) -> None:
    h = auth_headers(demo_token)
    url = f"/v3/users/{boot.demo_user_id}/password"
    wrong = client.post(url, headers=h, json={"user": {"password": "new-pw", "original_password": "wrong"}})
    assert wrong.status_code == 401
    assert _events(identity, boot.demo_user_id) == 0
    assert client.post(url, headers=h, json={"user": {"password": "new-pw"}}).status_code == 400
    ok = client.post(url, headers=h, json={"user": {"password": "new-pw", "original_password": DEMO_PASSWORD}})
    assert ok.status_code == 204
    assert _events(identity, boot.demo_user_id) == 1
    # The old token is revoked; the new password works, the old one does not.
    assert client.get(f"/v3/users/{boot.demo_user_id}", headers=h).status_code == 401
    assert password_token(client, "demo", "new-pw", project="demo")
    assert client.post("/v3/auth/tokens", json=_auth("demo", DEMO_PASSWORD)).status_code == 401


def test_password_change_is_proved_by_the_original_password(
    client: TestClient, admin_token: str, demo_token: str, boot: BootstrapResult
) -> None:
    """As Keystone (the API is unenforced): knowing the original password is what authorizes the change."""
    url = f"/v3/users/{boot.demo_user_id}/password"
    wrong = {"user": {"password": "x", "original_password": "not-it"}}
    assert client.post(url, headers=auth_headers(admin_token), json=wrong).status_code == 401
    right = {"user": {"password": "changed-by-admin", "original_password": DEMO_PASSWORD}}
    assert client.post(url, headers=auth_headers(admin_token), json=right).status_code == 204
    assert password_token(client, "demo", "changed-by-admin", project="demo")


def test_delete(client: TestClient, admin_token: str, identity: IdentityService, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    user = _create(client, admin_token, name="temp", password="pw")
    group = client.post("/v3/groups", headers=h, json={"group": {"name": "g"}}).json()["group"]
    assert client.put(f"/v3/groups/{group['id']}/users/{user['id']}", headers=h).status_code == 204
    grant = f"/v3/projects/{boot.demo_project_id}/users/{user['id']}/roles/{boot.reader_role_id}"
    assert client.put(grant, headers=h).status_code == 204
    assert client.delete(f"/v3/users/{user['id']}", headers=h).status_code == 204
    assert client.get(f"/v3/users/{user['id']}", headers=h).status_code == 404
    assert client.get(f"/v3/groups/{group['id']}/users", headers=h).json()["users"] == []
    assert client.get(f"/v3/role_assignments?user.id={user['id']}", headers=h).json()["role_assignments"] == []
    assert _events(identity, user["id"]) == 1
    assert client.delete(f"/v3/users/{user['id']}", headers=h).status_code == 404


def test_revocation_announced_after_commit(
    client: TestClient, admin_token: str, identity: IdentityService, boot: BootstrapResult, monkeypatch
) -> None:
    """Other APIs flush their token caches only once the event is visible in the database."""
    seen: list[int] = []
    monkeypatch.setattr(identity, "announce_revocation", lambda: seen.append(_events(identity, boot.demo_user_id)))
    h = auth_headers(admin_token)
    client.patch(f"/v3/users/{boot.demo_user_id}", headers=h, json={"user": {"description": "no security change"}})
    assert seen == []
    client.patch(f"/v3/users/{boot.demo_user_id}", headers=h, json={"user": {"enabled": False}})
    assert seen == [1]
