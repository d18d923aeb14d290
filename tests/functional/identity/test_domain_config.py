"""``/v3/domains/{domain_id}/config`` and the defaults at ``/v3/domains/config/default``."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.functional.identity.conftest import auth_headers

CONFIG = {"identity": {"driver": "ldap"}, "ldap": {"url": "ldap://x:389/", "user_tree_dn": "ou=Users"}}


def test_defaults(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    config = client.get("/v3/domains/config/default", headers=h).json()["config"]
    assert {"identity", "ldap"} <= set(config) and "driver" in config["identity"]
    assert set(client.get("/v3/domains/config/identity/default", headers=h).json()["config"]) == {"identity"}
    option = client.get("/v3/domains/config/identity/list_limit/default", headers=h).json()["config"]
    assert option == {"list_limit": None}
    assert client.get("/v3/domains/config/assignment/default", headers=h).status_code == 403


def test_lifecycle(client: TestClient, admin_token: str, demo_token: str) -> None:
    h = auth_headers(admin_token)
    domain = client.post("/v3/domains", headers=h, json={"domain": {"name": "ldapish"}}).json()["domain"]
    url = f"/v3/domains/{domain['id']}/config"
    assert client.get(url, headers=h).status_code == 404
    resp = client.put(url, headers=h, json={"config": CONFIG})
    assert resp.status_code == 201 and resp.json()["config"] == CONFIG
    assert client.put(url, headers=h, json={"config": CONFIG}).status_code == 200
    assert client.get(url, headers=h).json()["config"] == CONFIG
    assert client.get(f"{url}/ldap", headers=h).json()["config"] == {"ldap": CONFIG["ldap"]}
    assert client.get(f"{url}/ldap/url", headers=h).json()["config"] == {"url": "ldap://x:389/"}
    assert client.get(f"{url}/ldap/user", headers=h).status_code == 404
    resp = client.patch(f"{url}/identity", headers=h, json={"config": {"identity": {"driver": "sql", "list_limit": 5}}})
    assert resp.status_code == 200 and resp.json()["config"]["identity"] == {"driver": "sql", "list_limit": 5}
    resp = client.patch(f"{url}/identity/driver", headers=h, json={"config": {"driver": "ldap"}})
    assert resp.json()["config"]["identity"]["driver"] == "ldap"
    # The LDAP password is accepted but never shown; unknown groups and options are refused.
    resp = client.patch(url, headers=h, json={"config": {"ldap": {"password": "s3cret"}}})
    assert resp.status_code == 200 and "password" not in resp.json()["config"]["ldap"]
    assert client.patch(url, headers=h, json={"config": {"ldap": {"colour": "red"}}}).status_code == 403
    assert client.put(url, headers=h, json={"config": {"resource": {"driver": "x"}}}).status_code == 403
    assert client.put(url, headers=h, json={"config": {}}).status_code == 400
    assert client.get(url, headers=auth_headers(demo_token)).status_code == 403
    assert client.delete(f"{url}/identity/driver", headers=h).status_code == 204
    assert client.get(f"{url}/identity/driver", headers=h).status_code == 404
    assert client.delete(f"{url}/identity", headers=h).status_code == 204
    assert client.get(f"{url}/identity", headers=h).status_code == 404
    assert client.delete(url, headers=h).status_code == 204
    assert client.get(url, headers=h).status_code == 404
    assert client.put("/v3/domains/nope/config", headers=h, json={"config": CONFIG}).status_code == 404
