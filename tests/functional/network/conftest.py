"""Fixtures: a network service (fake back end unless a test asks for OVN) with a static token per persona.

Tokens: ``admin`` (admin of the admin project), ``member-a`` / ``member-b`` (members of projects A and
B), ``reader-a`` (reader of project A). ``STRATUS_TEST_DATABASE=postgresql`` runs the suite on
PostgreSQL (a per-process database, dropped before each test).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stratus.core.api.auth import Authenticator, StaticValidator
from stratus.core.config import Config
from stratus.core.context import RequestContext
from stratus.network.service import NetworkService
from tests.functional.pgdb import database_url_template, reset_postgres

PROJECT_A = "a" * 32
PROJECT_B = "b" * 32
ADMIN_PROJECT = "f" * 32
PERSONAS = {
    "admin": RequestContext(
        user_id="u-admin", project_id=ADMIN_PROJECT, roles=frozenset({"admin", "member", "reader"})
    ),
    "member-a": RequestContext(user_id="u-a", project_id=PROJECT_A, roles=frozenset({"member", "reader"})),
    "member-b": RequestContext(user_id="u-b", project_id=PROJECT_B, roles=frozenset({"member", "reader"})),
    "reader-a": RequestContext(user_id="u-ra", project_id=PROJECT_A, roles=frozenset({"reader"})),
}


def make_config(tmp_path: Path, **network: Any) -> Config:
    if os.environ.get("STRATUS_TEST_DATABASE") == "postgresql":
        reset_postgres("network")
    network.setdefault("backend", "fake")
    raw = {"core": {"state_dir": str(tmp_path), "database_url": database_url_template()}, "network": network}
    return Config(raw, env={})


class Api:
    """A TestClient with persona-scoped helpers, to keep tests short."""

    def __init__(self, client: TestClient, service: NetworkService):
        self.client = client
        self.service = service

    def __call__(self, method: str, path: str, as_: str = "member-a", **kwargs: Any) -> Any:
        headers = {"X-Auth-Token": as_, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def ok(self, method: str, path: str, as_: str = "member-a", status: int = 200, **kwargs: Any) -> Any:
        resp = self(method, path, as_, **kwargs)
        assert resp.status_code == status, resp.text
        return resp.json() if resp.content else None

    def create(self, member: str, as_: str = "member-a", **fields: Any) -> dict[str, Any]:
        path = {"security_group": "security-groups", "security_group_rule": "security-group-rules"}.get(
            member, member + "s"
        )
        return self.ok("POST", f"/v2.0/{path}", as_, status=201, json={member: fields})[member]  # type: ignore[no-any-return]

    def error(self, resp: Any, status: int, kind: str | None = None) -> dict[str, Any]:
        assert resp.status_code == status, resp.text
        body = resp.json()["NeutronError"]
        if kind is not None:
            assert body["type"] == kind, body
        return body  # type: ignore[no-any-return]

    def network_with_subnet(
        self, cidr: str = "10.0.0.0/24", as_: str = "member-a", **subnet: Any
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        net = self.create("network", as_, name="net")
        sub = self.create("subnet", as_, network_id=net["id"], cidr=cidr, ip_version=4, **subnet)
        return net, sub

    def external_network(self, cidr: str = "172.24.4.0/24") -> tuple[dict[str, Any], dict[str, Any]]:
        net = self.create(
            "network",
            "admin",
            name="public",
            **{"router:external": True, "provider:network_type": "flat", "provider:physical_network": "public"},
        )
        sub = self.create("subnet", "admin", network_id=net["id"], cidr=cidr, ip_version=4, enable_dhcp=False)
        return net, sub


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator[Callable[..., NetworkService]]:
    made: list[NetworkService] = []

    def factory(**network: Any) -> NetworkService:
        config = make_config(tmp_path, **network)
        service = NetworkService(config, authenticator=Authenticator(StaticValidator(PERSONAS)))
        made.append(service)
        service.start()
        return service

    yield factory
    for service in made:
        service.close()


@pytest.fixture
def make_api(service_factory: Callable[..., NetworkService]) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient] = []

    def factory(**network: Any) -> Api:
        service = service_factory(**network)
        client = TestClient(service.app, raise_server_exceptions=False)
        clients.append(client)
        return Api(client, service)

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


@pytest.fixture
def nb_server() -> Iterator[Any]:
    """A running OVN NB ovsdb-server (killed at the end, even on failure)."""
    from tests.functional.network.ovn_server import NbServer

    server = NbServer()
    try:
        server.start()
        yield server
        if server.proc is not None:
            server.assert_unique_names()
    finally:
        server.cleanup()


@pytest.fixture
def ovn_api(make_api: Callable[..., Api], nb_server: Any) -> Api:
    """The API on the OVN back end, connected to ``nb_server`` (gateway chassis "gw1")."""
    from tests.functional.network.ovn_server import wait_for

    api = make_api(backend="ovn", ovn_nb_connection=nb_server.remote, gateway_chassis=["gw1"], ovsdb_timeout=5)
    wait_for(api.service.backend.is_connected, 10, "the NB connection")
    return api
