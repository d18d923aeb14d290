"""Fixtures: an identity service on a fresh database, bootstrapped, with tokens for each persona."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from stratus.core.config import Config
from stratus.identity.bootstrap import BootstrapResult, bootstrap
from stratus.identity.service import IdentityService
from tests.functional.pgdb import database_url_template, reset_postgres

ADMIN_PASSWORD = "admin-secret-pw"
DEMO_PASSWORD = "demo-secret-pw"


@pytest.fixture
def identity_config(tmp_path: Path) -> Config:
    if os.environ.get("STRATUS_TEST_DATABASE") == "postgresql":
        reset_postgres("identity")
    raw = {
        "core": {"state_dir": str(tmp_path), "database_url": database_url_template()},
        "identity": {"password_hash_rounds": 4},
    }
    return Config(raw, env={})


@pytest.fixture
def identity(identity_config: Config) -> Iterator[IdentityService]:
    service = IdentityService(identity_config)
    yield service
    service.close()


@pytest.fixture
def boot(identity: IdentityService) -> BootstrapResult:
    return bootstrap(identity, admin_password=ADMIN_PASSWORD, demo_password=DEMO_PASSWORD)


@pytest.fixture
def client(identity: IdentityService, boot: BootstrapResult) -> Iterator[TestClient]:
    with TestClient(identity.app, raise_server_exceptions=False) as c:
        yield c


def password_token(
    client: TestClient, user: str, password: str, project: str | None = None, domain: str = "Default"
) -> str:
    """Issue a token through the API (name + domain), optionally project-scoped by name."""
    auth: dict = {
        "identity": {
            "methods": ["password"],
            "password": {"user": {"name": user, "domain": {"name": domain}, "password": password}},
        }
    }
    if project:
        auth["scope"] = {"project": {"name": project, "domain": {"name": domain}}}
    resp = client.post("/v3/auth/tokens", json={"auth": auth})
    assert resp.status_code == 201, resp.text
    return resp.headers["X-Subject-Token"]


@pytest.fixture
def admin_token(client: TestClient) -> str:
    return password_token(client, "admin", ADMIN_PASSWORD, project="admin")


@pytest.fixture
def demo_token(client: TestClient) -> str:
    return password_token(client, "demo", DEMO_PASSWORD, project="demo")


def auth_headers(token: str) -> dict[str, str]:
    return {"X-Auth-Token": token}
