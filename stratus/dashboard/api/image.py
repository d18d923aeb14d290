"""Image v2 calls the dashboard makes: list, create + upload (streamed in chunks), delete."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from stratus.dashboard.api.base import ServiceApi

CHUNK = 1024 * 1024


class Images(ServiceApi):
    service = "image"

    def images(self, **filters: str) -> list[dict[str, Any]]:
        """Every image the project may see (public, shared and its own), newest first."""
        params: dict[str, Any] = {"limit": 1000, "sort": "created_at:desc", **filters}
        return self._call("GET", "/v2/images", params=params)["images"]  # type: ignore[no-any-return]

    def image(self, image_id: str) -> dict[str, Any]:
        return self._call("GET", f"/v2/images/{self._seg(image_id)}")  # type: ignore[no-any-return]

    def create(self, name: str, disk_format: str, container_format: str, visibility: str) -> dict[str, Any]:
        body = {"name": name, "disk_format": disk_format, "container_format": container_format}
        body["visibility"] = visibility
        return self._call("POST", "/v2/images", json=body)  # type: ignore[no-any-return]

    def upload(self, image_id: str, data: IO[bytes], size: int) -> None:
        """Stream ``data`` (``size`` bytes) as the image's data, a chunk at a time."""

        def chunks() -> Iterator[bytes]:
            while chunk := data.read(CHUNK):
                yield chunk

        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        self._call("PUT", f"/v2/images/{self._seg(image_id)}/file", content=chunks(), headers=headers)

    def delete(self, image_id: str) -> None:
        self._call("DELETE", f"/v2/images/{self._seg(image_id)}")
