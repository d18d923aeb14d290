"""The ImageClient other services use, against the API through an in-process transport."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from stratus.image.client import ChecksumMismatch, ImageClient, ImageClientError
from tests.functional.image.conftest import Api


@pytest.fixture
def client(api: Api) -> ImageClient:
    return ImageClient("http://testserver", "member-a", transport=api.client._transport)  # type: ignore[attr-defined]


def test_create_upload_get_download_delete(client: ImageClient, tmp_path: Path) -> None:
    src = tmp_path / "src.raw"
    src.write_bytes(os.urandom(2_500_000))
    image = client.create_image(name="c", disk_format="raw", container_format="bare")
    client.upload(image["id"], src)
    shown = client.get_image(image["id"])
    assert shown["status"] == "active"
    dest = tmp_path / "dest.raw"
    size = client.download(image["id"], dest, expected_md5=shown["checksum"], expected_sha512=shown["os_hash_value"])
    assert size == src.stat().st_size and dest.read_bytes() == src.read_bytes()
    client.delete(image["id"])
    with pytest.raises(ImageClientError) as err:
        client.get_image(image["id"])
    assert err.value.status == 404


def test_download_with_a_wrong_checksum_leaves_no_file(client: ImageClient, tmp_path: Path) -> None:
    src = tmp_path / "src.raw"
    src.write_bytes(b"payload")
    image = client.create_image(disk_format="raw", container_format="bare")
    client.upload(image["id"], src)
    dest = tmp_path / "dest.raw"
    with pytest.raises(ChecksumMismatch):
        client.download(image["id"], dest, expected_sha512=hashlib.sha512(b"other").hexdigest())
    assert not dest.exists() and list(tmp_path.glob(".dest*")) == []


def test_errors_carry_the_api_message(client: ImageClient) -> None:
    with pytest.raises(ImageClientError) as err:
        client.create_image(disk_format="floppy")
    assert err.value.status == 400 and "disk_format" in err.value.message
