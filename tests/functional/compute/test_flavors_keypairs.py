"""Flavors (admin CRUD, extra specs, private flavors and access lists) and key pairs."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.functional.compute.conftest import PROJECT_A, PROJECT_B, Api


def test_flavor_crud_and_validation(api: Api) -> None:
    body = {"flavor": {"name": "f1", "ram": 256, "vcpus": 1, "disk": 0, "id": "f1-id", "description": "small"}}
    created = api.ok("POST", "/flavors", "admin", json=body, version="2.55")["flavor"]
    assert created["id"] == "f1-id" and created["description"] == "small" and created["swap"] == ""
    assert api("POST", "/flavors", "member-a", json=body).status_code == 403
    assert (
        api("POST", "/flavors", "admin", json={"flavor": {**body["flavor"], "id": "other"}}, version="2.55").status_code
        == 409
    )
    for bad in ({"ram": 0}, {"vcpus": -1}, {"disk": "x"}, {"name": ""}, {"id": "bad/id"}):
        resp = api("POST", "/flavors", "admin", json={"flavor": {"name": "f2", "ram": 1, "vcpus": 1, "disk": 1, **bad}})
        assert resp.status_code == 400, (bad, resp.text)
    detail = api.ok("GET", "/flavors/detail", "member-a", version="2.61")["flavors"]
    assert {f["id"] for f in detail} >= {"f1-id", api.flavor_id} and "extra_specs" in detail[0]
    updated = api.ok("PUT", "/flavors/f1-id", "admin", json={"flavor": {"description": "d2"}}, version="2.55")
    assert updated["flavor"]["description"] == "d2"
    assert api("PUT", "/flavors/f1-id", "admin", json={"flavor": {"description": "x"}}).status_code == 405
    assert api("DELETE", "/flavors/f1-id", "admin").status_code == 202
    assert api("GET", "/flavors/f1-id").status_code == 404


def test_extra_specs(api: Api) -> None:
    base = f"/flavors/{api.flavor_id}/os-extra_specs"
    assert api.ok("POST", base, "admin", json={"extra_specs": {"hw:cpu_policy": "dedicated"}})
    assert api("POST", base, "member-a", json={"extra_specs": {"a": "b"}}).status_code == 403
    assert api.ok("GET", base)["extra_specs"] == {"hw:cpu_policy": "dedicated"}
    assert api.ok("PUT", f"{base}/hw:cpu_policy", "admin", json={"hw:cpu_policy": "shared"}) == {
        "hw:cpu_policy": "shared"
    }
    assert api("PUT", f"{base}/hw:cpu_policy", "admin", json={"other": "x"}).status_code == 400
    assert api("DELETE", f"{base}/hw:cpu_policy", "admin").status_code == 200
    assert api("GET", f"{base}/hw:cpu_policy").status_code == 404


def test_private_flavor_access(api: Api) -> None:
    fid = api.make_flavor("private", **{"os-flavor-access:is_public": False})
    assert api("GET", f"/flavors/{fid}", "member-a").status_code == 404
    assert fid not in [f["id"] for f in api.ok("GET", "/flavors", "member-a")["flavors"]]
    assert api.boot(flavorRef=fid, status=400)
    action = f"/flavors/{fid}/action"
    assert api.ok("POST", action, "admin", json={"addTenantAccess": {"tenant": PROJECT_A}})
    assert api("POST", action, "admin", json={"addTenantAccess": {"tenant": PROJECT_A}}).status_code == 409
    assert api("POST", action, "member-a", json={"addTenantAccess": {"tenant": PROJECT_B}}).status_code == 403
    access = api.ok("GET", f"/flavors/{fid}/os-flavor-access", "admin")["flavor_access"]
    assert {"flavor_id": fid, "tenant_id": PROJECT_A} in access
    assert api("GET", f"/flavors/{fid}", "member-a").status_code == 200
    assert api("GET", f"/flavors/{fid}", "member-b").status_code == 404
    api.wait_status(api.boot(flavorRef=fid)["server"]["id"], "ACTIVE")
    assert api("GET", f"/flavors/{api.flavor_id}/os-flavor-access", "admin").status_code == 404
    assert api.ok("POST", action, "admin", json={"removeTenantAccess": {"tenant": PROJECT_A}})
    assert api("POST", action, "admin", json={"removeTenantAccess": {"tenant": PROJECT_A}}).status_code == 404
    assert api("GET", f"/flavors/{fid}", "member-a").status_code == 404


def test_keypair_generate_import_and_isolation(api: Api) -> None:
    generated = api("POST", "/os-keypairs", version="2.2", json={"keypair": {"name": "gen"}})
    assert generated.status_code == 201
    assert "PRIVATE KEY" in generated.json()["keypair"]["private_key"]
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    public = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    imported = api.ok("POST", "/os-keypairs", json={"keypair": {"name": "imp", "public_key": public}})["keypair"]
    assert imported["fingerprint"].count(":") == 15 and "private_key" not in imported
    assert api("POST", "/os-keypairs", json={"keypair": {"name": "imp", "public_key": public}}).status_code == 409
    assert (
        api("POST", "/os-keypairs", json={"keypair": {"name": "bad", "public_key": "ssh-rsa nope"}}).status_code == 400
    )
    assert api("POST", "/os-keypairs", json={"keypair": {"name": "bad/name"}}).status_code == 400
    names = [k["keypair"]["name"] for k in api.ok("GET", "/os-keypairs")["keypairs"]]
    assert names == ["gen", "imp"]
    assert api.ok("GET", "/os-keypairs", "member-a2")["keypairs"] == []  # per user, even in the same project
    assert api("GET", "/os-keypairs/imp", "member-b").status_code == 404
    assert api("DELETE", "/os-keypairs/imp", "member-b").status_code == 404
    assert api("GET", "/os-keypairs?user_id=u-member-a", "member-b", version="2.10").status_code == 403
    assert len(api.ok("GET", "/os-keypairs?user_id=u-member-a", "admin", version="2.10")["keypairs"]) == 2
    shown = api.ok("GET", "/os-keypairs/imp")["keypair"]
    assert shown["user_id"] == "u-member-a" and shown["public_key"] == public
    assert api("DELETE", "/os-keypairs/imp", version="2.2").status_code == 204
    assert api("GET", "/os-keypairs/imp").status_code == 404


def test_keypair_quota(api: Api) -> None:
    from tests.functional.compute.conftest import PROJECT_A as project

    api.ok("PUT", f"/os-quota-sets/{project}", "admin", json={"quota_set": {"key_pairs": 1}})
    api.ok("POST", "/os-keypairs", json={"keypair": {"name": "one"}})
    resp = api("POST", "/os-keypairs", json={"keypair": {"name": "two"}})
    assert resp.status_code == 403 and "Quota exceeded" in resp.text
