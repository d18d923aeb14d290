"""/v3/groups: CRUD, filters, and memberships."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from stratus.identity.bootstrap import BootstrapResult
from stratus.identity.models import RevocationEvent
from stratus.identity.service import IdentityService
from tests.functional.identity.conftest import auth_headers


def _group(client: TestClient, token: str, **group: object) -> dict:
    resp = client.post("/v3/groups", headers=auth_headers(token), json={"group": group})
    assert resp.status_code == 201, resp.text
    return resp.json()["group"]


def test_crud_and_filters(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    ops = _group(client, admin_token, name="ops", description="operators", team="blue")
    assert (ops["domain_id"], ops["description"], ops["team"]) == ("default", "operators", "blue")
    _group(client, admin_token, name="devs")
    assert sorted(g["name"] for g in client.get("/v3/groups", headers=h).json()["groups"]) == ["devs", "ops"]
    assert [g["name"] for g in client.get("/v3/groups?name=ops", headers=h).json()["groups"]] == ["ops"]
    assert client.get("/v3/groups?domain_id=other", headers=h).json()["groups"] == []
    resp = client.patch(f"/v3/groups/{ops['id']}", headers=h, json={"group": {"name": "ops2"}})
    assert resp.status_code == 200 and resp.json()["group"]["name"] == "ops2"
    assert client.get(f"/v3/groups/{ops['id']}", headers=h).json()["group"]["name"] == "ops2"
    assert client.post("/v3/groups", headers=h, json={"group": {"name": "devs"}}).status_code == 409
    assert client.post("/v3/groups", headers=h, json={"group": {"name": None}}).status_code == 400
    assert client.post("/v3/groups", headers=h, json={"group": {"name": "x", "domain_id": "nope"}}).status_code == 400
    assert client.delete(f"/v3/groups/{ops['id']}", headers=h).status_code == 204
    assert client.get(f"/v3/groups/{ops['id']}", headers=h).status_code == 404


def test_membership(client: TestClient, admin_token: str, identity: IdentityService, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    group = _group(client, admin_token, name="team")
    member_url = f"/v3/groups/{group['id']}/users/{boot.demo_user_id}"
    assert client.head(member_url, headers=h).status_code == 404
    assert client.put(member_url, headers=h).status_code == 204
    assert client.put(member_url, headers=h).status_code == 204  # idempotent
    assert client.head(member_url, headers=h).status_code == 204
    users = client.get(f"/v3/groups/{group['id']}/users", headers=h).json()["users"]
    assert [u["id"] for u in users] == [boot.demo_user_id]
    groups = client.get(f"/v3/users/{boot.demo_user_id}/groups", headers=h).json()["groups"]
    assert [g["id"] for g in groups] == [group["id"]]
    assert client.delete(member_url, headers=h).status_code == 204
    with identity.db.reader() as session:
        stmt = sa.select(RevocationEvent).where(RevocationEvent.user_id == boot.demo_user_id)
        assert len(session.scalars(stmt).all()) == 1
    assert client.delete(member_url, headers=h).status_code == 404
    assert client.put(f"/v3/groups/{group['id']}/users/nope", headers=h).status_code == 404
    assert client.put(f"/v3/groups/nope/users/{boot.demo_user_id}", headers=h).status_code == 404


def test_own_groups_visible_to_member(
    client: TestClient, admin_token: str, demo_token: str, boot: BootstrapResult
) -> None:
    group = _group(client, admin_token, name="team")
    client.put(f"/v3/groups/{group['id']}/users/{boot.demo_user_id}", headers=auth_headers(admin_token))
    h = auth_headers(demo_token)
    assert [g["name"] for g in client.get(f"/v3/users/{boot.demo_user_id}/groups", headers=h).json()["groups"]] == [
        "team"
    ]
    assert client.get(f"/v3/users/{boot.admin_user_id}/groups", headers=h).status_code == 403
    assert client.get("/v3/groups", headers=h).status_code == 403
    assert client.post("/v3/groups", headers=h, json={"group": {"name": "mine"}}).status_code == 403
    assert client.put(f"/v3/groups/{group['id']}/users/{boot.demo_user_id}", headers=h).status_code == 403
