"""``/v3/policies``, ``/v3/OS-EP-FILTER/endpoint_groups`` and ``/v3/OS-OAUTH1/consumers``."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.functional.identity.conftest import auth_headers


def _post(client: TestClient, token: str, path: str, key: str, **body: object) -> dict:
    resp = client.post(path, headers=auth_headers(token), json={key: body})
    assert resp.status_code == 201, resp.text
    return resp.json()[key]


def test_policies(client: TestClient, admin_token: str, demo_token: str) -> None:
    h = auth_headers(admin_token)
    policy = _post(client, admin_token, "/v3/policies", "policy", type="application/json", blob='{"a": 1}')
    assert (policy["type"], policy["blob"]) == ("application/json", '{"a": 1}')
    url = f"/v3/policies/{policy['id']}"
    resp = client.patch(url, headers=h, json={"policy": {"type": "text/plain"}})
    assert resp.status_code == 200 and resp.json()["policy"]["type"] == "text/plain"
    assert client.get(url, headers=h).json()["policy"]["blob"] == '{"a": 1}'
    assert [p["id"] for p in client.get("/v3/policies?type=text/plain", headers=h).json()["policies"]] == [policy["id"]]
    assert client.post("/v3/policies", headers=h, json={"policy": {"blob": "x"}}).status_code == 400
    assert client.post("/v3/policies", headers=auth_headers(demo_token), json={"policy": policy}).status_code == 403
    assert client.delete(url, headers=h).status_code == 204
    assert client.get(url, headers=h).status_code == 404


def test_endpoint_groups(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    svc = _post(client, admin_token, "/v3/services", "service", type="volume")
    ep = _post(
        client, admin_token, "/v3/endpoints", "endpoint", service_id=svc["id"], interface="public", url="http://v"
    )
    base = "/v3/OS-EP-FILTER/endpoint_groups"
    group = _post(
        client, admin_token, base, "endpoint_group", name="g", description="d", filters={"service_id": svc["id"]}
    )
    url = f"{base}/{group['id']}"
    assert client.head(url, headers=h).status_code == 200
    assert client.get(url, headers=h).json()["endpoint_group"]["filters"] == {"service_id": svc["id"]}
    assert [e["id"] for e in client.get(f"{url}/endpoints", headers=h).json()["endpoints"]] == [ep["id"]]
    body = {"endpoint_group": {"name": "g2", "filters": {"interface": "admin"}}}
    resp = client.patch(url, headers=h, json=body)
    assert resp.status_code == 200 and resp.json()["endpoint_group"]["name"] == "g2"
    assert client.get(f"{url}/endpoints", headers=h).json()["endpoints"] == []
    assert [g["id"] for g in client.get(base, headers=h).json()["endpoint_groups"]] == [group["id"]]
    for bad in ({"name": "x", "filters": {"colour": "red"}}, {"name": "x"}, {"filters": {}}):
        assert client.post(base, headers=h, json={"endpoint_group": bad}).status_code == 400, bad
    assert client.delete(url, headers=h).status_code == 204
    assert client.head(url, headers=h).status_code == 404


def test_oauth_consumers(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    base = "/v3/OS-OAUTH1/consumers"
    consumer = _post(client, admin_token, base, "consumer", description="app")
    assert consumer["secret"] and consumer["description"] == "app"
    url = f"{base}/{consumer['id']}"
    shown = client.get(url, headers=h).json()["consumer"]
    assert "secret" not in shown and shown["description"] == "app"
    resp = client.patch(url, headers=h, json={"consumer": {"description": "new"}})
    assert resp.status_code == 200 and resp.json()["consumer"]["description"] == "new"
    assert client.patch(url, headers=h, json={"consumer": {"secret": "mine"}}).status_code == 400
    assert [c["id"] for c in client.get(base, headers=h).json()["consumers"]] == [consumer["id"]]
    assert client.delete(url, headers=h).status_code == 204
    assert client.get(url, headers=h).status_code == 404
