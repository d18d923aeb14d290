"""openstacksdk (what the ``openstack`` CLI uses) against a real image API server, unchanged."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import openstack.connection
import pytest
from openstack import exceptions

from stratus.image.service import ImageService


@pytest.fixture
def conn(live_server: tuple[ImageService, str]) -> openstack.connection.Connection:
    _service, url = live_server
    connection = openstack.connection.Connection(
        auth_type="admin_token", auth={"token": "member-a", "endpoint": f"{url}/v2"}
    )
    yield connection
    connection.close()


def test_sdk_create_upload_show_download_and_delete(conn, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "disk.raw"
    src.write_bytes(os.urandom(1_500_000))
    image = conn.image.create_image(
        name="sdk-img",
        filename=str(src),
        disk_format="raw",
        container_format="bare",
        allow_duplicates=True,
        meta={"os_distro": "debian"},
    )
    shown = conn.image.get_image(image.id)
    assert shown.status == "active" and shown.size == src.stat().st_size
    assert shown.checksum == hashlib.md5(src.read_bytes()).hexdigest()
    assert shown.os_distro == "debian"
    data = conn.image.download_image(shown)
    assert data.content == src.read_bytes()
    conn.image.update_image(shown, name="renamed", min_ram=128)
    conn.image.add_tag(shown, "golden")
    again = conn.image.get_image(image.id)
    assert (again.name, again.min_ram, again.tags) == ("renamed", 128, ["golden"])
    conn.image.delete_image(image.id)
    with pytest.raises(exceptions.NotFoundException):
        conn.image.get_image(image.id)


def test_sdk_pagination_follows_next_links(conn) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        conn.image.create_image(name=f"img-{i}", disk_format="raw", container_format="bare", allow_duplicates=True)
    names = [i.name for i in conn.image.images(limit=2, sort_key="name", sort_dir="asc")]
    assert names == [f"img-{i}" for i in range(5)]


def test_sdk_shows_the_api_error_message(conn) -> None:  # type: ignore[no-untyped-def]
    image = conn.image.create_image(name="p", disk_format="raw", container_format="bare", allow_duplicates=True)
    conn.image.update_image(image, is_protected=True)
    with pytest.raises(exceptions.ForbiddenException, match="protected"):
        conn.image.delete_image(image.id)
