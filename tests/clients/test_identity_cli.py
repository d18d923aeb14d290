"""The identity acceptance scenario, with the real ``openstack`` CLI and ``--os-cloud stratus``."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from tests.clients.osc import OscError, osc, run
from tests.conftest import CloudHandle


@pytest.fixture(scope="module")
def names() -> dict[str, str]:
    suffix = uuid.uuid4().hex[:6]
    return {k: f"{k}-{suffix}" for k in ("p1", "u1", "g1", "ac1")}


@pytest.fixture(scope="module")
def project_and_user(cloud: CloudHandle, names: dict[str, str]) -> tuple[dict, dict]:
    project = osc(cloud, "project", "create", "--description", "client test", names["p1"])
    user = osc(cloud, "user", "create", "--password", "u1-secret-pw", "--project", names["p1"], names["u1"])
    return project, user


def test_token_issue(cloud: CloudHandle) -> None:
    token = osc(cloud, "token", "issue")
    assert token["id"] and token["user_id"] and token["project_id"] and token["expires"]


def test_token_issue_as_demo(cloud: CloudHandle) -> None:
    token = osc(cloud, "token", "issue", os_cloud="stratus-demo")
    projects = {p["Name"]: p["ID"] for p in osc(cloud, "project", "list")}
    assert token["project_id"] == projects["demo"]


def test_catalog_lists_identity_at_its_url(cloud: CloudHandle) -> None:
    catalog = {entry["Type"]: entry for entry in osc(cloud, "catalog", "list")}
    assert "identity" in catalog
    assert cloud.auth_url in str(catalog["identity"]["Endpoints"])
    assert set(catalog) == set(cloud.urls)  # every running service (service name == type for ours)


def test_project_and_user_create(cloud: CloudHandle, project_and_user: tuple[dict, dict], names: dict) -> None:
    project, user = project_and_user
    assert project["name"] == names["p1"] and project["enabled"] is True
    assert user["name"] == names["u1"] and user["default_project_id"] == project["id"]
    assert names["p1"] in {p["Name"] for p in osc(cloud, "project", "list")}
    assert names["u1"] in {u["Name"] for u in osc(cloud, "user", "list")}


def test_role_add_and_assignment_list(cloud: CloudHandle, project_and_user: tuple[dict, dict], names: dict) -> None:
    run(cloud, "role", "add", "--project", names["p1"], "--user", names["u1"], "member")
    assignments = osc(cloud, "role", "assignment", "list", "--user", names["u1"], "--names")
    assert [(a["Role"], a["User"], a["Project"]) for a in assignments] == [
        ("member", f"{names['u1']}@Default", f"{names['p1']}@Default")
    ]


def test_user_with_role_gets_a_project_token(cloud: CloudHandle, project_and_user: tuple[dict, dict], names) -> None:
    run(cloud, "role", "add", "--project", names["p1"], "--user", names["u1"], "member")
    token = osc(
        cloud,
        "--os-auth-url",
        cloud.auth_url,
        "--os-username",
        names["u1"],
        "--os-password",
        "u1-secret-pw",
        "--os-project-name",
        names["p1"],
        "--os-user-domain-name",
        "Default",
        "--os-project-domain-name",
        "Default",
        "--os-identity-api-version",
        "3",
        "token",
        "issue",
        os_cloud=None,
    )
    assert token["project_id"] == project_and_user[0]["id"]


def test_group_create_and_add_user(cloud: CloudHandle, project_and_user: tuple[dict, dict], names: dict) -> None:
    group = osc(cloud, "group", "create", "--description", "client test", names["g1"])
    assert group["name"] == names["g1"]
    run(cloud, "group", "add", "user", names["g1"], names["u1"])
    members = osc(cloud, "user", "list", "--group", names["g1"])
    assert [m["Name"] for m in members] == [names["u1"]]
    out = run(cloud, "group", "contains", "user", names["g1"], names["u1"])
    assert f"{names['u1']} in group {names['g1']}" in out


def test_application_credential_authenticates(cloud: CloudHandle, names: dict, tmp_path: Path) -> None:
    cred = osc(cloud, "application", "credential", "create", names["ac1"])
    assert cred["Name"] == names["ac1"] and cred["Secret"]
    assert "admin" in str(cred["Roles"])  # without --role it gets all the creator's roles on the project
    clouds = {
        "clouds": {
            "stratus-ac": {
                "auth_type": "v3applicationcredential",
                "auth": {
                    "auth_url": cloud.auth_url,
                    "application_credential_id": cred["ID"],
                    "application_credential_secret": cred["Secret"],
                },
                "region_name": "RegionOne",
                "identity_api_version": 3,
            }
        }
    }
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds))
    env = {**cloud.env, "OS_CLIENT_CONFIG_FILE": str(path)}
    token = osc(cloud, "token", "issue", os_cloud="stratus-ac", env=env)
    admin_token = osc(cloud, "token", "issue")
    assert token["id"] and token["user_id"] == admin_token["user_id"]
    assert token["project_id"] == admin_token["project_id"]
    listed = osc(cloud, "application", "credential", "list")
    assert names["ac1"] in {c["Name"] for c in listed}


def test_token_revoke(cloud: CloudHandle) -> None:
    victim = osc(cloud, "token", "issue")["id"]
    checker = osc(cloud, "token", "issue")["id"]
    headers = {"X-Auth-Token": checker, "X-Subject-Token": victim}
    assert httpx.get(f"{cloud.auth_url}/auth/tokens", headers=headers).status_code == 200
    run(cloud, "token", "revoke", victim)
    assert httpx.get(f"{cloud.auth_url}/auth/tokens", headers=headers).status_code == 404
    assert httpx.get(f"{cloud.auth_url}/projects", headers={"X-Auth-Token": victim}).status_code == 401
    with pytest.raises(OscError):
        run(
            cloud,
            "--os-auth-type",
            "token",
            "--os-token",
            victim,
            "--os-auth-url",
            cloud.auth_url,
            "--os-project-name",
            "admin",
            "--os-project-domain-name",
            "Default",
            "project",
            "list",
            os_cloud=None,
        )


def test_demo_user_may_not_create_projects(cloud: CloudHandle) -> None:
    with pytest.raises(OscError, match="403|not authorized|Forbidden"):
        osc(cloud, "project", "create", f"nope-{uuid.uuid4().hex[:6]}", os_cloud="stratus-demo")
