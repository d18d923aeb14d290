"""Fixtures: an image service on a fresh database and store, with a static token per persona.

Tokens: ``admin`` (admin of the admin project), ``member-a`` / ``member-b`` (members of projects
A and B), ``reader-a`` (reader of project A). ``STRATUS_TEST_DATABASE=postgresql`` runs the suite
on PostgreSQL (database ``stratus_test_image``, dropped before each test).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from stratus.core.api.auth import Authenticator, StaticValidator
from stratus.core.config import Config
from stratus.core.context import RequestContext
from stratus.image.service import ImageService
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
JSON_PATCH = "application/openstack-images-v2.1-json-patch"


def make_config(tmp_path: Path, **image: Any) -> Config:
    if os.environ.get("STRATUS_TEST_DATABASE") == "postgresql":
        reset_postgres("image")
    raw = {"core": {"state_dir": str(tmp_path), "database_url": database_url_template()}, "image": image}
    return Config(raw, env={})


def make_service(tmp_path: Path, **image: Any) -> ImageService:
    return ImageService(make_config(tmp_path, **image), authenticator=Authenticator(StaticValidator(PERSONAS)))


class Api:
    """A TestClient with one method per persona-scoped call, to keep tests short."""

    def __init__(self, client: TestClient, store_dir: Path):
        self.client = client
        self.store_dir = store_dir

    def __call__(self, method: str, path: str, as_: str = "member-a", **kwargs: Any) -> Any:
        headers = {"X-Auth-Token": as_, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def create(self, as_: str = "member-a", **fields: Any) -> dict[str, Any]:
        fields.setdefault("disk_format", "raw")
        fields.setdefault("container_format", "bare")
        resp = self("POST", "/v2/images", as_, json=fields)
        assert resp.status_code == 201, resp.text
        return resp.json()

    def patch(self, image_id: str, ops: list[dict[str, Any]], as_: str = "member-a") -> Any:
        return self("PATCH", f"/v2/images/{image_id}", as_, content=_json(ops), headers={"Content-Type": JSON_PATCH})

    def upload(self, image_id: str, data: bytes, as_: str = "member-a", **headers: str) -> Any:
        headers = {"Content-Type": "application/octet-stream", **headers}
        return self("PUT", f"/v2/images/{image_id}/file", as_, content=data, headers=headers)

    def names(self, query: str = "", as_: str = "member-a") -> list[str]:
        resp = self("GET", f"/v2/images{query}", as_)
        assert resp.status_code == 200, resp.text
        return [i["name"] for i in resp.json()["images"]]

    def stored_files(self) -> list[str]:
        return sorted(p.name for p in self.store_dir.iterdir()) if self.store_dir.exists() else []


def _json(value: Any) -> bytes:
    import json

    return json.dumps(value).encode()


@pytest.fixture
def service_factory(tmp_path: Path) -> Iterator[Callable[..., ImageService]]:
    made: list[ImageService] = []

    def factory(**image: Any) -> ImageService:
        service = make_service(tmp_path, **image)
        made.append(service)
        return service

    yield factory
    for service in made:
        service.close()


@pytest.fixture
def make_api(service_factory: Callable[..., ImageService], tmp_path: Path) -> Iterator[Callable[..., Api]]:
    clients: list[TestClient] = []

    def factory(**image: Any) -> Api:
        client = TestClient(service_factory(**image).app, raise_server_exceptions=False)
        clients.append(client)
        return Api(client, tmp_path / "images")

    yield factory
    for client in clients:
        client.close()


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


def qemu_img(*args: str) -> None:
    subprocess.run(["qemu-img", *args], check=True, capture_output=True)


@pytest.fixture
def qcow2_files(tmp_path: Path) -> dict[str, Path]:
    """A plain qcow2 (1 GiB virtual), one with a backing file and one with an external data file."""
    work = tmp_path / "qcow2"
    work.mkdir()
    plain, top, ext, data = work / "base.qcow2", work / "top.qcow2", work / "ext.qcow2", work / "ext.data"
    qemu_img("create", "-f", "qcow2", str(plain), "1G")
    qemu_img("create", "-f", "qcow2", "-b", str(plain), "-F", "qcow2", str(top))
    qemu_img("create", "-f", "qcow2", "-o", f"data_file={data}", str(ext), "64M")
    return {"plain": plain, "backing": top, "data_file": ext}


@pytest.fixture
def live_server(service_factory: Callable[..., ImageService]) -> Iterator[tuple[ImageService, str]]:
    """An image API on a real uvicorn server (a free local port): (service, base URL)."""
    import socket

    from stratus.core.api.server import ApiServer

    service = service_factory()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ApiServer("image", service.app, "127.0.0.1", port)
    server.start()
    yield service, server.url
    server.stop()
