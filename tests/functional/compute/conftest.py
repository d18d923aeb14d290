"""Fixtures: a compute service with the real conductor and a fake-driver agent on a memory:// bus.

The image service is a real ImageService app reached in-process through an httpx transport.
Tokens: ``admin``, ``member-a`` / ``member-b`` (members of projects A and B), ``reader-a``.
``STRATUS_TEST_DATABASE=postgresql`` runs the suite on PostgreSQL (``stratus_test_compute`` and
``stratus_test_image`` are dropped before each test).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from stratus.compute import models
from stratus.compute.service import ComputeService
from stratus.compute.workers import ComputeWorkers
from stratus.core.api.auth import Authenticator, StaticValidator
from stratus.core.bus import Bus
from stratus.core.config import Config
from stratus.core.context import RequestContext
from stratus.image.client import ImageClient
from stratus.image.service import ImageService
from tests.functional.pgdb import database_url_template, postgres, reset_postgres

PROJECT_A = "a" * 32
PROJECT_B = "b" * 32
ADMIN_PROJECT = "f" * 32
_ROLES = {"admin": ("admin", "member", "reader"), "member": ("member", "reader"), "reader": ("reader",)}
PERSONAS = {
    token: RequestContext(user_id=f"u-{token}", project_id=project, roles=frozenset(_ROLES[kind]), token=token)
    for token, project, kind in [
        ("admin", ADMIN_PROJECT, "admin"),
        ("member-a", PROJECT_A, "member"),
        ("member-a2", PROJECT_A, "member"),
        ("member-b", PROJECT_B, "member"),
        ("reader-a", PROJECT_A, "reader"),
    ]
}
IMAGE_URL = "http://image.test"
HOST = "fake-host-0"
DEADLINE = 15.0


def make_config(tmp_path: Path, **compute: Any) -> Config:
    template = database_url_template()
    if postgres():
        reset_postgres("compute")
        reset_postgres("image")
        reset_postgres("network")  # the networking tests run a network service on this config too
    raw = {
        "core": {"state_dir": str(tmp_path), "database_url": template},
        "image": {"store": "fake"},
        "compute": {"image_url": IMAGE_URL, **compute},
        "compute_agent": {
            "driver": "fake",
            "fake_hosts": 1,
            "host_prefix": "fake-host-",
            "image_url": IMAGE_URL,
            "heartbeat_interval": 1.0,
        },
    }
    return Config(raw, env={})


class ClientTransport(httpx.BaseTransport):
    """Sends httpx requests to an in-process ASGI app through a TestClient."""

    def __init__(self, client: TestClient):
        self.client = client

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        resp = self.client.request(
            request.method, request.url.raw_path.decode(), headers=dict(request.headers), content=request.read()
        )
        return httpx.Response(resp.status_code, headers=resp.headers, content=resp.content)


class TransportImageSource:
    """The agents' ImageSource over the in-process image API."""

    def __init__(self, transport: httpx.BaseTransport, token: str):
        self.transport, self.token = transport, token

    def download(self, image_id: str, dest: Path) -> int:
        with ImageClient(IMAGE_URL, self.token, transport=self.transport) as client:
            return client.download(image_id, dest)

    def upload(self, image_id: str, src: Path) -> None:
        with ImageClient(IMAGE_URL, self.token, transport=self.transport) as client:
            client.upload(image_id, src)


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Api:
    """The compute API as each persona, plus helpers to boot and wait for servers."""

    def __init__(self, client: TestClient, service: ComputeService, image: TestClient):
        self.client, self.service, self.image = client, service, image
        self.image_id = ""
        self.flavor_id = ""

    def __call__(self, method: str, path: str, as_: str = "member-a", version: str | None = None, **kw: Any) -> Any:
        headers = {"X-Auth-Token": as_, **kw.pop("headers", {})}
        if version:
            headers["OpenStack-API-Version"] = f"compute {version}"
        return self.client.request(method, f"/v2.1{path}", headers=headers, **kw)

    def ok(self, method: str, path: str, as_: str = "member-a", status: int = 200, **kw: Any) -> Any:
        resp = self(method, path, as_, **kw)
        assert resp.status_code == status, resp.text
        return resp.json() if resp.content else None

    def make_image(self, as_: str = "admin", **fields: Any) -> str:
        fields = {"disk_format": "raw", "container_format": "bare", "visibility": "public", **fields}
        resp = self.image.post("/v2/images", json=fields, headers={"X-Auth-Token": as_})
        assert resp.status_code == 201, resp.text
        image_id = resp.json()["id"]
        put = self.image.put(
            f"/v2/images/{image_id}/file",
            content=b"\0" * 1024,
            headers={"X-Auth-Token": as_, "Content-Type": "application/octet-stream"},
        )
        assert put.status_code == 204, put.text
        return image_id

    def make_flavor(self, name: str, ram: int = 512, vcpus: int = 1, disk: int = 1, **extra: Any) -> str:
        body = {"flavor": {"name": name, "ram": ram, "vcpus": vcpus, "disk": disk, **extra}}
        return self.ok("POST", "/flavors", "admin", json=body)["flavor"]["id"]

    def boot(self, as_: str = "member-a", status: int = 202, version: str | None = None, **server: Any) -> Any:
        body = {"server": {"name": "vm", "imageRef": self.image_id, "flavorRef": self.flavor_id, **server}}
        resp = self("POST", "/servers", as_, version=version, json=body)
        assert resp.status_code == status, resp.text
        return resp.json()

    def server(self, server_id: str, as_: str = "member-a", version: str | None = None) -> dict[str, Any]:
        resp = self("GET", f"/servers/{server_id}", as_, version=version)
        assert resp.status_code == 200, resp.text
        return resp.json()["server"]

    def wait_status(self, server_id: str, status: str, as_: str = "member-a") -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            server = self.server(server_id, as_)
            assert server["status"] != "ERROR" or status == "ERROR", server
            return server if server["status"] == status and server["OS-EXT-STS:task_state"] is None else None

        return wait_for(check, f"server {server_id} to be {status}")

    def wait_gone(self, server_id: str, as_: str = "member-a") -> None:
        wait_for(lambda: self("GET", f"/servers/{server_id}", as_).status_code == 404, f"{server_id} to be deleted")

    def active(self, as_: str = "member-a", **server: Any) -> dict[str, Any]:
        return self.wait_status(self.boot(as_, **server)["server"]["id"], "ACTIVE", as_)

    def action(self, server_id: str, body: dict[str, Any], as_: str = "member-a", **kw: Any) -> Any:
        return self("POST", f"/servers/{server_id}/action", as_, json=body, **kw)


@contextlib.contextmanager
def compute_stack(
    config: Config, hosts: tuple[str, ...] = (HOST,)
) -> Iterator[tuple[ComputeService, ComputeWorkers, Api]]:
    """The compute API, conductor and ``[compute_agent] fake_hosts`` agents on ``config``; waits for ``hosts``."""
    auth = Authenticator(StaticValidator(PERSONAS))
    image_service = ImageService(config, authenticator=auth)
    image_client = TestClient(image_service.app, raise_server_exceptions=False)
    transport = ClientTransport(image_client)
    bus = Bus("memory://", name=f"test-{uuid.uuid4().hex[:8]}", default_timeout=10.0)
    service = ComputeService(config, bus, authenticator=auth, image_transport=transport)
    workers = ComputeWorkers(service, bus, service.db, image_source_factory=lambda ctx: TransportImageSource(
        transport, str(ctx.get("auth_token") or "")))  # fmt: skip
    workers.start()
    client = TestClient(service.app, raise_server_exceptions=False)
    api = Api(client, service, image_client)
    try:
        for host in hosts:
            wait_for(lambda h=host: _service_up(service, h), f"the heartbeat of {host}")
        yield service, workers, api
    finally:
        workers.stop()
        client.close()
        bus.close()
        service.close()
        image_client.close()
        image_service.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[tuple[ComputeService, ComputeWorkers, Api]]:
    with compute_stack(make_config(tmp_path)) as parts:
        yield parts


def _service_up(service: ComputeService, host: str = HOST) -> bool:
    with service.db.reader() as session:
        return session.scalar(sa.select(models.ComputeService).where(models.ComputeService.host == host)) is not None


@pytest.fixture
def api(stack: tuple[ComputeService, ComputeWorkers, Api]) -> Api:
    api = stack[2]
    api.image_id = api.make_image(name="cirros")
    api.flavor_id = api.make_flavor("m1.tiny")
    return api
