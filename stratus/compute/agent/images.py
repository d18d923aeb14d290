"""Image data for drivers through the Image API, as the requesting user (``ctx['auth_token']``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from stratus.compute.virt.base import ImageSource

ImageSourceFactory = Callable[[dict[str, Any]], ImageSource]


class ImageAPISource:
    """An ImageSource backed by ``stratus.image.client.ImageClient`` (one client per call)."""

    def __init__(self, image_url: str, token: str):
        self._url = image_url
        self._token = token

    def download(self, image_id: str, dest: Path) -> int:
        from stratus.image.client import ImageClient

        with ImageClient(self._url, self._token) as client:
            return client.download(image_id, dest)

    def upload(self, image_id: str, src: Path) -> None:
        from stratus.image.client import ImageClient

        with ImageClient(self._url, self._token) as client:
            client.upload(image_id, src)


def image_api_factory(image_url: str) -> ImageSourceFactory:
    def factory(ctx: dict[str, Any]) -> ImageSource:
        return ImageAPISource(image_url, str(ctx.get("auth_token") or ctx.get("token") or ""))

    return factory
