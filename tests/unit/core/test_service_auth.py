"""Service tokens: password login scoped to the service project, cached until near expiry, invalidated on 401."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import httpx
import pytest

from stratus.core.config import ServiceAuthConfig
from stratus.core.service_auth import ServiceAuthError, ServiceTokens


class Identity:
    """A Keystone double issuing tok-1, tok-2, ... valid for ``lifetime`` seconds."""

    def __init__(self, lifetime: float = 3600, status: int = 201):
        self.lifetime, self.status = lifetime, status
        self.bodies: list[dict[str, Any]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path == "/v3/auth/tokens"
        self.bodies.append(json.loads(request.content))
        if self.status != 201:
            return httpx.Response(self.status, json={"error": {"message": "bad"}})
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=self.lifetime)
        body = {"token": {"expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}
        return httpx.Response(201, json=body, headers={"X-Subject-Token": f"tok-{len(self.bodies)}"})


def tokens(identity: Identity, password: str = "secret") -> ServiceTokens:
    conf = ServiceAuthConfig(password=password)
    return ServiceTokens("http://identity.test", conf, transport=httpx.MockTransport(identity))


def test_password_auth_scoped_to_the_service_project_and_cached() -> None:
    identity = Identity()
    source = tokens(identity)
    assert source.configured
    assert source.token() == "tok-1" and source.token() == "tok-1"
    auth = identity.bodies[0]["auth"]
    assert auth["identity"]["methods"] == ["password"]
    assert auth["identity"]["password"]["user"] == {
        "name": "stratus",
        "domain": {"name": "Default"},
        "password": "secret",
    }
    assert auth["scope"] == {"project": {"name": "service", "domain": {"name": "Default"}}}
    source.invalidate()
    assert source.token() == "tok-2"


def test_token_near_expiry_is_replaced() -> None:
    identity = Identity(lifetime=200)  # inside the five-minute margin: never reused
    source = tokens(identity)
    assert source.token() == "tok-1" and source.token() == "tok-2"


def test_unconfigured_and_refused() -> None:
    assert not tokens(Identity(), password="").configured
    with pytest.raises(ServiceAuthError):
        tokens(Identity(), password="").token()
    with pytest.raises(ServiceAuthError) as info:
        tokens(Identity(status=401)).token()
    assert info.value.status == 401
