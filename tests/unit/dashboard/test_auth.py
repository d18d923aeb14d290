"""Login, project switch and logout against a fake identity API (httpx MockTransport): tokens stay server-side."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from stratus.core.config import Config
from stratus.dashboard.service import DashboardService

PASSWORD = "pa55-w0rd-never-shown"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeIdentity:
    """Issues numbered tokens, lists two projects, records revocations."""

    def __init__(self) -> None:
        self.issued: list[str] = []
        self.revoked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v3/auth/tokens" and request.method == "POST":
            auth = httpx.Response(200, content=request.content).json()["auth"]
            if (
                auth["identity"]["methods"] == ["password"]
                and auth["identity"]["password"]["user"]["password"] != PASSWORD
            ):
                return httpx.Response(
                    401, json={"error": {"code": 401, "message": "The request you have made requires authentication."}}
                )
            project = (auth.get("scope") or {}).get("project", {}).get("id", "p1")
            token = f"gAAAAAtoken-{len(self.issued)}-{'x' * 50}"
            self.issued.append(token)
            doc = {
                "user": {"id": "u1", "name": "demo", "domain": {"id": "default", "name": "Default"}},
                "project": {"id": project, "name": {"p1": "one", "p2": "two"}[project]},
                "roles": [{"id": "r1", "name": "member"}],
                "expires_at": "2999-01-01T00:00:00.000000Z",
                "catalog": [],
            }
            return httpx.Response(201, json={"token": doc}, headers={"X-Subject-Token": token})
        if request.url.path == "/v3/auth/projects":
            return httpx.Response(200, json={"projects": [{"id": "p1", "name": "one"}, {"id": "p2", "name": "two"}]})
        if request.url.path == "/v3/auth/tokens" and request.method == "DELETE":
            self.revoked.append(request.headers["X-Subject-Token"])
            return httpx.Response(204)
        return httpx.Response(404, json={"error": {"code": 404, "message": "not here"}})


@pytest.fixture
def fake() -> FakeIdentity:
    return FakeIdentity()


@pytest.fixture
def client(fake: FakeIdentity) -> TestClient:
    config = Config({"dashboard": {"identity_url": "http://identity.test:5000"}}, env={})
    service = DashboardService(config, transport=httpx.MockTransport(fake))
    return TestClient(service.app, follow_redirects=False)


def login(client: TestClient, password: str = PASSWORD) -> httpx.Response:
    csrf = CSRF.search(client.get("/auth/login").text).group(1)  # type: ignore[union-attr]
    return client.post("/auth/login", data={"username": "demo", "password": password, "csrf_token": csrf})


def test_logout_revokes_every_token_of_the_session(client: TestClient, fake: FakeIdentity) -> None:
    assert login(client).headers["location"] == "/project/"
    page = client.get("/project/key-pairs/")  # no compute in the catalog: the error page, with the layout
    csrf = CSRF.search(page.text).group(1)  # type: ignore[union-attr]
    resp = client.post("/auth/switch", data={"project_id": "p2", "csrf_token": csrf})
    assert resp.status_code == 303
    assert fake.revoked == []  # the login token is kept to switch again; nothing else to revoke yet
    resp = client.post("/auth/logout", data={"csrf_token": csrf})
    assert resp.status_code == 303 and resp.headers["location"] == "/auth/login"
    assert sorted(fake.revoked) == sorted(fake.issued)  # login token and project token both revoked
    assert client.get("/project/").headers["location"] == "/auth/login"


def test_wrong_password_is_a_message_not_a_session(client: TestClient, fake: FakeIdentity) -> None:
    resp = login(client, "wrong")
    assert resp.status_code == 401 and "Invalid user name, password or domain" in resp.text
    assert client.get("/project/").status_code == 303


def test_no_token_or_password_in_pages_urls_or_logs(
    client: TestClient, fake: FakeIdentity, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    seen = [login(client)]
    for path in ("/project/", "/project/instances/", "/project/networks/", "/admin/hypervisors/", "/nope"):
        resp = client.get(path, follow_redirects=True)
        seen += [*resp.history, resp]
    texts = [r.text for r in seen] + [str(r.url) for r in seen] + [str(dict(r.headers)) for r in seen]
    texts.append(caplog.text)
    assert fake.issued
    for text in texts:
        assert PASSWORD not in text
        for token in fake.issued:
            assert token not in text
