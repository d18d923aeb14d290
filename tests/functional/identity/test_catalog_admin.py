"""/v3/regions, /v3/services, /v3/endpoints."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.functional.identity.conftest import auth_headers


def _post(client: TestClient, token: str, kind: str, **body: object) -> dict:
    resp = client.post(f"/v3/{kind}s", headers=auth_headers(token), json={kind: body})
    assert resp.status_code == 201, resp.text
    return resp.json()[kind]


def test_regions(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    resp = client.put("/v3/regions/RegionTwo", headers=h, json={"region": {"description": "second"}})
    assert resp.status_code == 201, resp.text
    assert resp.json()["region"]["id"] == "RegionTwo"
    assert client.put("/v3/regions/RegionTwo", headers=h, json={"region": {}}).status_code == 409
    generated = _post(client, admin_token, "region", parent_region_id="RegionTwo")
    assert generated["id"] and generated["parent_region_id"] == "RegionTwo"
    assert client.post("/v3/regions", headers=h, json={"region": {"parent_region_id": "nope"}}).status_code == 400
    cycle = client.patch("/v3/regions/RegionTwo", headers=h, json={"region": {"parent_region_id": generated["id"]}})
    assert cycle.status_code == 400
    ids = sorted(r["id"] for r in client.get("/v3/regions", headers=h).json()["regions"])
    assert ids == sorted(["RegionTwo", generated["id"]])
    assert client.delete("/v3/regions/RegionTwo", headers=h).status_code == 403  # has a child
    assert client.delete(f"/v3/regions/{generated['id']}", headers=h).status_code == 204
    assert client.get(f"/v3/regions/{generated['id']}", headers=h).status_code == 404


def test_services_and_endpoints(client: TestClient, admin_token: str) -> None:
    h = auth_headers(admin_token)
    client.put("/v3/regions/RegionOne", headers=h, json={"region": {}})
    svc = _post(client, admin_token, "service", type="image", name="glance", description="images")
    _post(client, admin_token, "service", type="compute", name="nova")
    assert [s["name"] for s in client.get("/v3/services?type=image", headers=h).json()["services"]] == ["glance"]
    ep = _post(
        client,
        admin_token,
        "endpoint",
        service_id=svc["id"],
        interface="public",
        url="http://x:9292",
        region_id="RegionOne",
    )
    assert (ep["region_id"], ep["region"], ep["enabled"]) == ("RegionOne", "RegionOne", True)
    _post(client, admin_token, "endpoint", service_id=svc["id"], interface="internal", url="http://i:9292")
    for bad in (
        {"service_id": svc["id"], "interface": "private", "url": "http://x"},
        {"service_id": svc["id"], "interface": "public"},
        {"service_id": "nope", "interface": "public", "url": "http://x"},
        {"service_id": svc["id"], "interface": "public", "url": 5},
    ):
        resp = client.post("/v3/endpoints", headers=h, json={"endpoint": bad})
        assert resp.status_code == 400, (bad, resp.text)
    public = client.get("/v3/endpoints?interface=public", headers=h).json()["endpoints"]
    assert [e["id"] for e in public] == [ep["id"]]
    assert len(client.get(f"/v3/endpoints?service_id={svc['id']}", headers=h).json()["endpoints"]) == 2
    assert len(client.get("/v3/endpoints?region_id=RegionOne", headers=h).json()["endpoints"]) == 1
    assert client.get("/v3/endpoints?interface=bogus", headers=h).status_code == 400
    resp = client.patch(f"/v3/endpoints/{ep['id']}", headers=h, json={"endpoint": {"url": "http://new:9292"}})
    assert resp.status_code == 200 and resp.json()["endpoint"]["url"] == "http://new:9292"
    resp = client.patch(f"/v3/services/{svc['id']}", headers=h, json={"service": {"enabled": False}})
    assert resp.status_code == 200 and resp.json()["service"]["enabled"] is False
    assert client.delete(f"/v3/endpoints/{ep['id']}", headers=h).status_code == 204
    assert client.get(f"/v3/endpoints/{ep['id']}", headers=h).status_code == 404
    assert client.delete(f"/v3/services/{svc['id']}", headers=h).status_code == 204
    assert client.get(f"/v3/endpoints?service_id={svc['id']}", headers=h).json()["endpoints"] == []
    assert client.post("/v3/services", headers=h, json={"service": {"name": "notype"}}).status_code == 400


def test_member_reads_but_cannot_write(client: TestClient, demo_token: str) -> None:
    h = auth_headers(demo_token)
    assert client.get("/v3/services", headers=h).status_code == 200
    assert client.get("/v3/regions", headers=h).status_code == 200
    assert client.post("/v3/services", headers=h, json={"service": {"type": "x"}}).status_code == 403
    assert client.post("/v3/regions", headers=h, json={"region": {}}).status_code == 403
    body = {"endpoint": {"service_id": "x", "interface": "public", "url": "http://x"}}
    assert client.post("/v3/endpoints", headers=h, json=body).status_code == 403


def test_endpoint_in_unknown_region_creates_it(client, admin_token):
    """As Keystone: an endpoint naming a region that does not exist creates the region."""
    h = {"X-Auth-Token": admin_token}
    svc = _post(client, admin_token, "service", type="object-store")
    ep = _post(client, admin_token, "endpoint", service_id=svc["id"], interface="public", url="http://x", region="Mars")
    assert ep["region_id"] == "Mars"
    assert client.get("/v3/regions/Mars", headers=h).status_code == 200
    for bad in ("False", "True", 1):
        resp = client.patch(f"/v3/endpoints/{ep['id']}", headers=h, json={"endpoint": {"enabled": bad}})
        assert resp.status_code == 400, bad
    resp = client.patch(f"/v3/endpoints/{ep['id']}", headers=h, json={"endpoint": {"enabled": False, "id": ep["id"]}})
    assert resp.status_code == 200 and resp.json()["endpoint"]["enabled"] is False
    resp = client.patch(f"/v3/endpoints/{ep['id']}", headers=h, json={"endpoint": {"id": "other"}})
    assert resp.status_code == 400
