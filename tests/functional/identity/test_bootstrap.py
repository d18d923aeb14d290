"""bootstrap(): what a fresh cloud starts with, and that running it again changes nothing."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from stratus.identity import models
from stratus.identity.bootstrap import BootstrapResult, bootstrap
from stratus.identity.service import IdentityService
from tests.functional.identity.conftest import ADMIN_PASSWORD, DEMO_PASSWORD, auth_headers, password_token

ENDPOINTS = [("identity", "keystone", "http://h:5000"), ("image", "glance", "http://h:9292")]


def _counts(identity: IdentityService) -> dict[str, int]:
    tables = (models.Domain, models.Project, models.User, models.Role, models.ImpliedRole, models.Assignment)
    with identity.db.reader() as session:
        return {
            t.__tablename__: session.scalar(sa.select(sa.func.count()).select_from(t)) or 0
            for t in (*tables, models.Service, models.Endpoint, models.Region)
        }


def test_bootstrap_creates_personas(client: TestClient, boot: BootstrapResult, admin_token: str) -> None:
    h = auth_headers(admin_token)
    assert boot.domain_id == "default"
    ra = client.get(f"/v3/role_assignments?user.id={boot.admin_user_id}", headers=h).json()["role_assignments"]
    assert {tuple(a["scope"]) + (a["role"]["id"],) for a in ra} == {
        ("project", boot.admin_role_id),
        ("domain", boot.admin_role_id),
        ("system", boot.admin_role_id),  # as keystone-manage bootstrap
    }
    demo = client.get(f"/v3/role_assignments?user.id={boot.demo_user_id}", headers=h).json()["role_assignments"]
    assert [(a["scope"]["project"]["id"], a["role"]["id"]) for a in demo] == [
        (boot.demo_project_id, boot.member_role_id)
    ]
    assert password_token(client, "demo", DEMO_PASSWORD, project="demo")
    assert password_token(client, "admin", ADMIN_PASSWORD)  # unscoped works too


def test_bootstrap_is_idempotent(identity: IdentityService, boot: BootstrapResult) -> None:
    first = bootstrap(identity, admin_password="other", demo_password="other", endpoints=ENDPOINTS)
    before = _counts(identity)
    assert before["endpoint"] == 6 and before["service"] == 2 and before["region"] == 1
    again = bootstrap(identity, admin_password="changed", demo_password="changed", endpoints=ENDPOINTS)
    assert again == first == boot
    assert _counts(identity) == before
    with identity.db.reader() as session:
        admin = session.get(models.User, boot.admin_user_id)
    from stratus.identity.resources.passwords import check_password

    assert check_password(ADMIN_PASSWORD, admin.password_hash)  # existing password kept


def test_bootstrap_updates_changed_endpoint_urls(identity: IdentityService, boot: BootstrapResult) -> None:
    bootstrap(identity, admin_password="x", demo_password="x", endpoints=ENDPOINTS)
    moved = [("identity", "keystone", "http://new:5000"), ENDPOINTS[1]]
    bootstrap(identity, admin_password="x", demo_password="x", endpoints=moved)
    with identity.db.reader() as session:
        rows = session.execute(
            sa.select(models.Service.type, models.Endpoint.interface, models.Endpoint.url).join(
                models.Endpoint, models.Endpoint.service_id == models.Service.id
            )
        ).all()
    urls = {(t, i): u for t, i, u in rows}
    assert len(urls) == 6
    assert {urls[("identity", i)] for i in ("public", "internal", "admin")} == {"http://new:5000"}
    assert urls[("image", "public")] == "http://h:9292"


def test_bootstrap_catalog_visible_in_token(
    client: TestClient, identity: IdentityService, boot: BootstrapResult
) -> None:
    bootstrap(identity, admin_password="x", demo_password="x", endpoints=ENDPOINTS)
    token = password_token(client, "demo", DEMO_PASSWORD, project="demo")
    resp = client.get("/v3/auth/catalog", headers=auth_headers(token))
    assert resp.status_code == 200, resp.text
    types = sorted(s["type"] for s in resp.json()["catalog"])
    assert types == ["identity", "image"]
