"""``/v3/credentials`` and ``/v3/users/{user_id}/credentials/OS-EC2``."""

from __future__ import annotations

import hashlib
import json

from fastapi.testclient import TestClient

from stratus.identity.bootstrap import BootstrapResult
from tests.functional.identity.conftest import auth_headers


def _create(client: TestClient, token: str, **cred: object) -> dict:
    resp = client.post("/v3/credentials", headers=auth_headers(token), json={"credential": cred})
    assert resp.status_code == 201, resp.text
    return resp.json()["credential"]


def test_crud(client: TestClient, admin_token: str, demo_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    blob = json.dumps({"access": "AK1", "secret": "S1"})
    cred = _create(
        client, admin_token, user_id=boot.demo_user_id, project_id=boot.demo_project_id, type="ec2", blob=blob
    )
    assert cred["id"] == hashlib.sha256(b"AK1").hexdigest()  # as Keystone: ec2 ids are the access key's hash
    assert (cred["user_id"], cred["project_id"], cred["type"], cred["blob"]) == (
        boot.demo_user_id,
        boot.demo_project_id,
        "ec2",
        blob,
    )
    other = _create(client, admin_token, user_id=boot.admin_user_id, type="totp", blob="opaque")
    assert client.get(f"/v3/credentials/{cred['id']}", headers=h).json()["credential"]["blob"] == blob
    new_blob = json.dumps({"access": "AK2", "secret": "S2"})
    resp = client.patch(f"/v3/credentials/{cred['id']}", headers=h, json={"credential": {"blob": new_blob}})
    assert resp.status_code == 200 and resp.json()["credential"]["blob"] == new_blob
    assert resp.json()["credential"]["id"] == cred["id"]
    ids = {c["id"] for c in client.get("/v3/credentials", headers=h).json()["credentials"]}
    assert ids == {cred["id"], other["id"]}
    assert [c["id"] for c in client.get("/v3/credentials?type=totp", headers=h).json()["credentials"]] == [other["id"]]
    # A non-admin sees and manages only its own credentials.
    dh = auth_headers(demo_token)
    assert [c["id"] for c in client.get("/v3/credentials", headers=dh).json()["credentials"]] == [cred["id"]]
    assert client.get(f"/v3/credentials/{other['id']}", headers=dh).status_code == 403
    mine = {"user_id": boot.demo_user_id, "type": "cert", "blob": "x"}
    assert client.post("/v3/credentials", headers=dh, json={"credential": mine}).status_code == 201
    theirs = {"user_id": boot.admin_user_id, "type": "cert", "blob": "x"}
    assert client.post("/v3/credentials", headers=dh, json={"credential": theirs}).status_code == 403
    assert client.delete(f"/v3/credentials/{cred['id']}", headers=h).status_code == 204
    assert client.get(f"/v3/credentials/{cred['id']}", headers=h).status_code == 404
    assert client.delete(f"/v3/credentials/{cred['id']}", headers=h).status_code == 404


def test_bad_input(client: TestClient, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(admin_token)
    for cred in (
        {"type": "ec2", "blob": "x"},
        {"user_id": boot.demo_user_id, "blob": "x"},
        {"user_id": boot.demo_user_id, "type": "ec2", "blob": "not json", "project_id": boot.demo_project_id},
        {"user_id": boot.demo_user_id, "type": "ec2", "blob": json.dumps({"secret": "s"}), "project_id": "x"},
        {"user_id": boot.demo_user_id, "type": "ec2", "blob": json.dumps({"access": "a"})},  # no project
        {"user_id": "nobody", "type": "cert", "blob": "x"},
        {"user_id": boot.demo_user_id, "type": "cert", "blob": 5},
    ):
        resp = client.post("/v3/credentials", headers=h, json={"credential": cred})
        assert resp.status_code == 400, (cred, resp.text)
    blob = json.dumps({"access": "dup"})
    body = {"user_id": boot.demo_user_id, "type": "ec2", "blob": blob, "project_id": boot.demo_project_id}
    _create(client, admin_token, **body)
    assert client.post("/v3/credentials", headers=h, json={"credential": body}).status_code == 409


def test_deleting_the_user_deletes_its_credentials(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    user = client.post("/v3/users", headers=h, json={"user": {"name": "temp"}}).json()["user"]
    cred = _create(client, admin_token, user_id=user["id"], type="cert", blob="x")
    assert client.delete(f"/v3/users/{user['id']}", headers=h).status_code == 204
    assert client.get(f"/v3/credentials/{cred['id']}", headers=h).status_code == 404


def test_ec2(client: TestClient, demo_token: str, admin_token: str, boot: BootstrapResult) -> None:
    h = auth_headers(demo_token)
    url = f"/v3/users/{boot.demo_user_id}/credentials/OS-EC2"
    resp = client.post(url, headers=h, json={"tenant_id": boot.demo_project_id})
    assert resp.status_code == 201, resp.text
    ec2 = resp.json()["credential"]
    assert ec2["access"] and ec2["secret"]
    assert (ec2["user_id"], ec2["tenant_id"]) == (boot.demo_user_id, boot.demo_project_id)
    assert ec2["links"]["self"].endswith(f"/OS-EC2/{ec2['access']}")
    shown = client.get(f"{url}/{ec2['access']}", headers=h).json()["credential"]
    assert {k: shown[k] for k in ("access", "secret", "user_id", "tenant_id")} == {
        k: ec2[k] for k in ("access", "secret", "user_id", "tenant_id")
    }
    assert [c["access"] for c in client.get(url, headers=h).json()["credentials"]] == [ec2["access"]]
    # They are credentials of type ec2, too.
    cred_id = hashlib.sha256(ec2["access"].encode()).hexdigest()
    assert client.get(f"/v3/credentials/{cred_id}", headers=h).json()["credential"]["type"] == "ec2"
    # Another user's EC2 credentials are out of reach; an unknown project is not found.
    admin_url = f"/v3/users/{boot.admin_user_id}/credentials/OS-EC2"
    assert client.get(admin_url, headers=h).status_code == 403
    assert client.post(url, headers=h, json={"tenant_id": "nope"}).status_code == 404
    assert client.delete(f"{url}/{ec2['access']}", headers=h).status_code == 204
    assert client.get(f"{url}/{ec2['access']}", headers=h).status_code == 404
    assert client.delete(f"{url}/{ec2['access']}", headers=h).status_code == 404
