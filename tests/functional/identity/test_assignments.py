"""Grants (PUT/HEAD/GET/DELETE on projects and domains, OS-INHERIT) and /v3/role_assignments."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient

from stratus.identity.bootstrap import BootstrapResult
from stratus.identity.models import RevocationEvent
from stratus.identity.service import IdentityService
from tests.functional.identity.conftest import auth_headers, password_token


def _post(client: TestClient, token: str, kind: str, **body: object) -> dict:
    resp = client.post(f"/v3/{kind}s", headers=auth_headers(token), json={kind: body})
    assert resp.status_code == 201, resp.text
    return resp.json()[kind]


def _ra(client: TestClient, token: str, query: str) -> list[dict]:
    resp = client.get(f"/v3/role_assignments{query}", headers=auth_headers(token))
    assert resp.status_code == 200, resp.text
    return resp.json()["role_assignments"]


def test_project_user_grant_lifecycle(
    client: TestClient, admin_token: str, boot: BootstrapResult, identity: IdentityService
) -> None:
    h = auth_headers(admin_token)
    user = _post(client, admin_token, "user", name="u", password="pw")
    url = f"/v3/projects/{boot.demo_project_id}/users/{user['id']}/roles/{boot.reader_role_id}"
    assert client.head(url, headers=h).status_code == 404
    assert client.put(url, headers=h).status_code == 204
    assert client.head(url, headers=h).status_code == 204
    assert client.get(url, headers=h).status_code == 204
    roles = client.get(f"/v3/projects/{boot.demo_project_id}/users/{user['id']}/roles", headers=h).json()["roles"]
    assert [r["name"] for r in roles] == ["reader"]
    token = password_token(client, "u", "pw", project="demo")
    assert client.delete(url, headers=h).status_code == 204
    with identity.db.reader() as session:
        events = session.scalars(sa.select(RevocationEvent).where(RevocationEvent.user_id == user["id"])).all()
    assert [(e.user_id, e.project_id) for e in events] == [(user["id"], boot.demo_project_id)]
    # The token that carried the role is dead: 404 as a subject, 401 as X-Auth-Token.
    assert client.get("/v3/auth/tokens", headers={**h, "X-Subject-Token": token}).status_code == 404
    assert client.get(f"/v3/users/{user['id']}", headers=auth_headers(token)).status_code == 401
    assert client.delete(url, headers=h).status_code == 404


def test_unknown_entities_are_404(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    p, u, r = boot.demo_project_id, boot.demo_user_id, boot.reader_role_id
    for url in (
        f"/v3/projects/nope/users/{u}/roles/{r}",
        f"/v3/projects/{p}/users/nope/roles/{r}",
        f"/v3/projects/{p}/users/{u}/roles/nope",
        f"/v3/projects/{p}/groups/nope/roles/{r}",
        f"/v3/domains/nope/users/{u}/roles/{r}",
        f"/v3/OS-INHERIT/domains/nope/users/{u}/roles/{r}/inherited_to_projects",
    ):
        resp = client.put(url, headers=h)
        assert resp.status_code == 404, url
        assert resp.json()["error"]["code"] == 404
    assert _ra(client, admin_token, f"?user.id={u}&scope.project.id={p}")[0]["role"]["id"] == boot.member_role_id


def test_group_and_domain_grants_effective(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    user = _post(client, admin_token, "user", name="gu", password="pw")
    group = _post(client, admin_token, "group", name="g")
    project = _post(client, admin_token, "project", name="p2")
    assert client.put(f"/v3/groups/{group['id']}/users/{user['id']}", headers=h).status_code == 204
    g_url = f"/v3/projects/{project['id']}/groups/{group['id']}/roles/{boot.member_role_id}"
    assert client.put(g_url, headers=h).status_code == 204
    inh = f"/v3/OS-INHERIT/domains/default/users/{user['id']}/roles/{boot.reader_role_id}/inherited_to_projects"
    assert client.put(inh, headers=h).status_code == 204
    assert client.head(inh, headers=h).status_code == 204
    listed = client.get(f"/v3/OS-INHERIT/domains/default/users/{user['id']}/roles/inherited_to_projects", headers=h)
    assert [r["id"] for r in listed.json()["roles"]] == [boot.reader_role_id]

    direct = _ra(client, admin_token, f"?group.id={group['id']}")
    assert direct == [
        {
            "role": {"id": boot.member_role_id},
            "group": {"id": group["id"]},
            "scope": {"project": {"id": project["id"]}},
            "links": {"assignment": f"http://testserver{g_url}"},
        }
    ]
    inherited = _ra(client, admin_token, f"?user.id={user['id']}&scope.OS-INHERIT:inherited_to=projects")
    assert inherited[0]["scope"] == {"domain": {"id": "default"}, "OS-INHERIT:inherited_to": "projects"}

    effective = _ra(client, admin_token, f"?user.id={user['id']}&effective")
    seen = {(a["scope"]["project"]["id"], a["role"]["id"]) for a in effective}
    # group grant (member, implying reader) on p2; inherited reader on every project of the domain
    assert (project["id"], boot.member_role_id) in seen
    assert (project["id"], boot.reader_role_id) in seen
    assert (boot.demo_project_id, boot.reader_role_id) in seen
    assert (boot.admin_project_id, boot.reader_role_id) in seen
    assert all("group" not in a for a in effective)
    via_group = [a for a in effective if a["role"]["id"] == boot.member_role_id]
    assert via_group[0]["links"]["membership"].endswith(f"/v3/groups/{group['id']}/users/{user['id']}")

    # The user gets a token on p2 through the group.
    assert password_token(client, "gu", "pw", project="p2")

    named = _ra(client, admin_token, f"?user.id={user['id']}&scope.project.id={project['id']}&effective&include_names")
    assert {a["role"]["name"] for a in named} == {"member", "reader"}
    assert named[0]["user"]["name"] == "gu" and named[0]["scope"]["project"]["name"] == "p2"
    assert named[0]["scope"]["project"]["domain"] == {"id": "default", "name": "Default"}

    role_filter = _ra(client, admin_token, f"?role.id={boot.admin_role_id}")
    assert {(a["user"]["id"], tuple(a["scope"])) for a in role_filter} == {
        (boot.admin_user_id, ("project",)),
        (boot.admin_user_id, ("domain",)),
        (boot.admin_user_id, ("system",)),
    }


def test_domain_grant_and_subtree(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    parent = _post(client, admin_token, "project", name="top")
    child = _post(client, admin_token, "project", name="leaf", parent_id=parent["id"])
    grant = f"/v3/projects/{child['id']}/users/{boot.demo_user_id}/roles/{boot.reader_role_id}"
    assert client.put(grant, headers=h).status_code == 204
    assert _ra(client, admin_token, f"?scope.project.id={parent['id']}") == []
    subtree = _ra(client, admin_token, f"?scope.project.id={parent['id']}&include_subtree=true")
    assert [a["scope"]["project"]["id"] for a in subtree] == [child["id"]]
    d_url = f"/v3/domains/default/users/{boot.demo_user_id}/roles/{boot.reader_role_id}"
    assert client.put(d_url, headers=h).status_code == 204
    in_domain = _ra(client, admin_token, f"?scope.domain.id=default&user.id={boot.demo_user_id}")
    assert [a["role"]["id"] for a in in_domain] == [boot.reader_role_id]
    assert client.delete(d_url, headers=h).status_code == 204


def test_bad_filter_combinations(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    assert client.get("/v3/role_assignments?effective&group.id=x", headers=h).status_code == 400
    assert client.get("/v3/role_assignments?include_subtree=true", headers=h).status_code == 400
    query = "effective&scope.domain.id=default&scope.OS-INHERIT:inherited_to=projects"
    assert client.get(f"/v3/role_assignments?{query}", headers=h).status_code == 400
    assert client.get("/v3/role_assignments?effective=maybe", headers=h).status_code == 400


def test_group_grant_revoke_revokes_members(
    client: TestClient, admin_token: str, boot: BootstrapResult, identity: IdentityService
) -> None:
    h = auth_headers(admin_token)
    group = _post(client, admin_token, "group", name="g")
    client.put(f"/v3/groups/{group['id']}/users/{boot.demo_user_id}", headers=h)
    url = f"/v3/domains/default/groups/{group['id']}/roles/{boot.reader_role_id}"
    assert client.put(url, headers=h).status_code == 204
    assert client.delete(url, headers=h).status_code == 204
    with identity.db.reader() as session:
        events = session.scalars(sa.select(RevocationEvent).where(RevocationEvent.user_id == boot.demo_user_id)).all()
    assert [(e.user_id, e.domain_id) for e in events] == [(boot.demo_user_id, "default")]


def test_member_cannot_grant(client: TestClient, demo_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(demo_token)
    url = f"/v3/projects/{boot.demo_project_id}/users/{boot.demo_user_id}/roles/{boot.admin_role_id}"
    assert client.put(url, headers=h).status_code == 403
    assert client.get("/v3/role_assignments", headers=h).status_code == 403
    assert client.get(f"/v3/role_assignments?scope.project.id={boot.admin_project_id}", headers=h).status_code == 403
