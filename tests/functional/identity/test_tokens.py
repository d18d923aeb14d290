"""``/v3/auth/tokens``: password, token and scope handling, validation, revocation."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.functional.identity.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, auth_headers, password_token


def password_auth(user: dict, scope: dict | str | None = None) -> dict:
    auth: dict = {"identity": {"methods": ["password"], "password": {"user": user}}}
    if scope is not None:
        auth["scope"] = scope
    return {"auth": auth}


def check(client: TestClient, caller: str, subject: str) -> int:
    return client.get("/v3/auth/tokens", headers={"X-Auth-Token": caller, "X-Subject-Token": subject}).status_code


def test_project_scoped_token_has_roles_catalog_and_headers(client: TestClient) -> None:
    body = password_auth(
        {"name": "admin", "domain": {"name": "Default"}, "password": ADMIN_PASSWORD},
        {"project": {"name": "admin", "domain": {"id": "default"}}},
    )
    resp = client.post("/v3/auth/tokens", json=body)
    assert resp.status_code == 201
    assert resp.headers["X-Subject-Token"]
    assert resp.headers["X-OpenStack-Request-ID"].startswith("req-")
    token = resp.json()["token"]
    assert token["methods"] == ["password"]
    assert token["user"]["name"] == "admin" and token["user"]["domain"] == {"id": "default", "name": "Default"}
    assert token["project"]["name"] == "admin"
    assert {"admin", "manager", "member", "reader"} <= {r["name"] for r in token["roles"]}  # implied roles expanded
    assert isinstance(token["catalog"], list)
    assert token["expires_at"].endswith("Z") and token["issued_at"] < token["expires_at"]


def test_user_by_id_default_project_and_explicit_unscoped(client: TestClient, boot) -> None:
    user = {"id": boot.demo_user_id, "password": DEMO_PASSWORD}
    resp = client.post("/v3/auth/tokens", json=password_auth(user))
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert token["user"]["id"] == boot.demo_user_id
    assert token["project"]["id"] == boot.demo_project_id  # scoped to the default project, as Keystone does
    resp = client.post("/v3/auth/tokens", json=password_auth(user, "unscoped"))  # type: ignore[arg-type]
    token = resp.json()["token"]
    assert "project" not in token and "roles" not in token and "catalog" not in token


def test_project_scope_by_id_and_domain_scope(client: TestClient, boot) -> None:
    user = {"name": "admin", "domain": {"id": "default"}, "password": ADMIN_PASSWORD}
    resp = client.post("/v3/auth/tokens", json=password_auth(user, {"project": {"id": boot.admin_project_id}}))
    assert resp.status_code == 201 and resp.json()["token"]["project"]["id"] == boot.admin_project_id
    resp = client.post("/v3/auth/tokens", json=password_auth(user, {"domain": {"name": "Default"}}))
    assert resp.status_code == 201
    assert resp.json()["token"]["domain"] == {"id": "default", "name": "Default"}


def test_wrong_password_unknown_user_and_no_role_are_401(client: TestClient, boot) -> None:
    cases = [
        password_auth({"name": "admin", "domain": {"name": "Default"}, "password": "wrong"}),
        password_auth({"name": "nobody", "domain": {"name": "Default"}, "password": "x"}),
        password_auth({"id": "0" * 32, "password": "x"}),
        password_auth({"name": "admin", "domain": {"name": "NoSuchDomain"}, "password": ADMIN_PASSWORD}),
        password_auth(
            {"name": "demo", "domain": {"name": "Default"}, "password": DEMO_PASSWORD},
            {"project": {"id": boot.admin_project_id}},
        ),
    ]
    for body in cases:
        resp = client.post("/v3/auth/tokens", json=body)
        assert resp.status_code == 401, body
        assert resp.json()["error"]["code"] == 401
        assert "X-Subject-Token" not in resp.headers


def test_malformed_requests_are_400(client: TestClient) -> None:
    bodies = [
        {},
        {"auth": {}},
        {"auth": {"identity": {"methods": "password"}}},
        {"auth": {"identity": {"methods": ["password"]}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "admin"}}}}},
        {"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": 5, "password": "x"}}}}},
    ]
    for body in bodies:
        resp = client.post("/v3/auth/tokens", json=body)
        assert resp.status_code == 400, (body, resp.text)
        assert resp.json()["error"]["title"] == "Bad Request"
    resp = client.post("/v3/auth/tokens", content=b"{not json", headers={"Content-Type": "application/json"})
    assert resp.status_code == 400 and "JSON" in resp.json()["error"]["message"]


def test_token_method_rescopes_and_keeps_expiry_and_audit_chain(client: TestClient) -> None:
    unscoped = client.post(
        "/v3/auth/tokens",
        json=password_auth({"name": "demo", "domain": {"name": "Default"}, "password": DEMO_PASSWORD}),
    )
    first = unscoped.json()["token"]
    body = {
        "auth": {
            "identity": {"methods": ["token"], "token": {"id": unscoped.headers["X-Subject-Token"]}},
            "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}},
        }
    }
    resp = client.post("/v3/auth/tokens", json=body)
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert token["project"]["name"] == "demo"
    assert set(token["methods"]) == {"password", "token"}
    assert token["expires_at"] == first["expires_at"]
    assert token["audit_ids"][1] == first["audit_ids"][0]


def test_validate_head_and_subject_policy(client: TestClient, admin_token: str, demo_token: str) -> None:
    assert check(client, admin_token, demo_token) == 200  # admin validates anyone's token
    assert check(client, demo_token, demo_token) == 200  # a subject validates its own
    assert check(client, demo_token, admin_token) == 403  # but not someone else's
    head = client.head("/v3/auth/tokens", headers={"X-Auth-Token": admin_token, "X-Subject-Token": demo_token})
    assert head.status_code == 200
    assert check(client, admin_token, "garbage-token") == 404
    assert client.get("/v3/auth/tokens", headers=auth_headers(admin_token)).status_code == 400
    nocat = client.get(
        "/v3/auth/tokens?nocatalog", headers={"X-Auth-Token": admin_token, "X-Subject-Token": demo_token}
    ).json()
    assert "catalog" not in nocat["token"]


def test_missing_expired_and_garbled_tokens_are_401(client: TestClient, identity) -> None:
    import datetime as dt

    from stratus.identity.tokens.payload import TokenData, pack

    assert client.get("/v3/auth/catalog").status_code == 401
    assert client.get("/v3/auth/catalog", headers=auth_headers("x" * 200)).status_code == 401
    expired = TokenData(
        user_id="u",
        methods=("password",),
        expires_at=dt.datetime(2000, 1, 1),
        audit_ids=("a",),
        issued_at=dt.datetime(1999, 12, 31),
    )
    resp = client.get("/v3/auth/catalog", headers=auth_headers(pack(identity.tokens.keyring.fernet(), expired)))
    assert resp.status_code == 401
    assert resp.json()["error"]["message"] == "The request you have made requires authentication."


def test_revoke_token(client: TestClient, admin_token: str) -> None:
    other = password_token(client, "admin", ADMIN_PASSWORD, project="admin")
    resp = client.delete("/v3/auth/tokens", headers={"X-Auth-Token": admin_token, "X-Subject-Token": other})
    assert resp.status_code == 204
    assert check(client, admin_token, other) == 404
    assert client.get("/v3/auth/catalog", headers=auth_headers(other)).status_code == 401
    assert check(client, admin_token, admin_token) == 200  # only the revoked token is affected


def test_member_cannot_revoke_someone_elses_token(client: TestClient, admin_token: str, demo_token: str) -> None:
    resp = client.delete("/v3/auth/tokens", headers={"X-Auth-Token": demo_token, "X-Subject-Token": admin_token})
    assert resp.status_code == 403
    assert check(client, admin_token, admin_token) == 200


def test_password_change_revokes_existing_tokens(client: TestClient, boot, demo_token: str) -> None:
    resp = client.post(
        f"/v3/users/{boot.demo_user_id}/password",
        json={"user": {"password": "a-new-password", "original_password": DEMO_PASSWORD}},
        headers=auth_headers(demo_token),
    )
    assert resp.status_code == 204
    assert client.get("/v3/auth/catalog", headers=auth_headers(demo_token)).status_code == 401
    fresh = password_token(client, "demo", "a-new-password", project="demo")
    assert client.get("/v3/auth/catalog", headers=auth_headers(fresh)).status_code == 200


def test_user_disable_and_role_removal_revoke(client: TestClient, boot, admin_token: str, demo_token: str) -> None:
    url = f"/v3/projects/{boot.demo_project_id}/users/{boot.demo_user_id}/roles/{boot.member_role_id}"
    assert client.delete(url, headers=auth_headers(admin_token)).status_code == 204
    assert client.get("/v3/auth/catalog", headers=auth_headers(demo_token)).status_code == 401
    assert client.put(url, headers=auth_headers(admin_token)).status_code == 204
    token = password_token(client, "demo", DEMO_PASSWORD, project="demo")
    resp = client.patch(
        f"/v3/users/{boot.demo_user_id}", json={"user": {"enabled": False}}, headers=auth_headers(admin_token)
    )
    assert resp.status_code == 200
    assert client.get("/v3/auth/catalog", headers=auth_headers(token)).status_code == 401


def test_auth_catalog_projects_domains(client: TestClient, demo_token: str) -> None:
    catalog = client.get("/v3/auth/catalog", headers=auth_headers(demo_token))
    assert catalog.status_code == 200 and "catalog" in catalog.json()
    projects = client.get("/v3/auth/projects", headers=auth_headers(demo_token)).json()["projects"]
    assert [p["name"] for p in projects] == ["demo"]
    assert client.get("/v3/auth/domains", headers=auth_headers(demo_token)).json()["domains"] == []


def test_version_discovery(client: TestClient) -> None:
    root = client.get("/")
    assert root.status_code == 300
    assert root.json()["versions"]["values"][0]["id"].startswith("v3")
    v3 = client.get("/v3")
    assert v3.status_code == 200 and v3.json()["version"]["status"] == "stable"


def test_unknown_path_is_404_with_body(client: TestClient) -> None:
    resp = client.get("/v3/no-such-thing")
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == 404
