"""Image lookups through the image API, with the caller's token (as Nova asks Glance)."""

from __future__ import annotations

from typing import Any

import httpx

from stratus.compute.messages import ImageSpec
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, ServiceUnavailable
from stratus.image.client import ImageClient, ImageClientError


class ImageLookup:
    """Reads and creates image records in the image service as the requesting user."""

    def __init__(self, image_url: str, transport: httpx.BaseTransport | None = None):
        self.image_url = image_url
        self.transport = transport

    def _client(self, ctx: RequestContext) -> ImageClient:
        return ImageClient(self.image_url, ctx.token, timeout=30.0, transport=self.transport)

    def get_active(self, ctx: RequestContext, image_id: str) -> ImageSpec:
        """The image to boot, else 400 (unknown, invisible or not active)."""
        try:
            with self._client(ctx) as client:
                image = client.get_image(image_id)
        except ImageClientError as exc:
            if exc.status in (403, 404):
                raise BadRequest(f"Image {image_id} could not be found.") from None
            raise ServiceUnavailable(f"The image service answered {exc.status}: {exc.message}") from None
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"The image service is unreachable: {exc}") from None
        if image.get("status") != "active":
            raise BadRequest(f"Image {image_id} is not active.")
        return to_spec(image)

    def create_snapshot(self, ctx: RequestContext, name: str, properties: dict[str, Any]) -> dict[str, Any]:
        """A queued image record the agent uploads the snapshot into, in the base image's disk format."""
        try:
            with self._client(ctx) as client:
                disk_format = self._base_format(client, properties.get("base_image_ref"))
                return client.create_image(
                    name=name, disk_format=disk_format, container_format="bare", visibility="private", **properties
                )
        except ImageClientError as exc:
            if exc.status in (400, 409, 413):
                raise BadRequest(f"Could not create the snapshot image: {exc.message}") from None
            if exc.status == 403:
                raise BadRequest(f"The image service refused the snapshot: {exc.message}") from None
            raise ServiceUnavailable(f"The image service answered {exc.status}: {exc.message}") from None
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"The image service is unreachable: {exc}") from None

    @staticmethod
    def _base_format(client: ImageClient, image_id: str | None) -> str:
        if image_id:
            try:
                return str(client.get_image(image_id).get("disk_format") or "qcow2")
            except ImageClientError:
                pass  # the base image may be gone; the driver's default format then
        return "qcow2"


RESERVED = {
    "id",
    "name",
    "status",
    "disk_format",
    "container_format",
    "size",
    "virtual_size",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "min_disk",
    "min_ram",
    "visibility",
    "protected",
    "owner",
    "tags",
    "created_at",
    "updated_at",
    "self",
    "file",
    "schema",
    "direct_url",
    "locations",
    "os_hidden",
}


def to_spec(image: dict[str, Any]) -> ImageSpec:
    return ImageSpec(
        id=image["id"],
        name=image.get("name") or "",
        disk_format=image.get("disk_format"),
        container_format=image.get("container_format"),
        size=image.get("size"),
        virtual_size=image.get("virtual_size"),
        checksum=image.get("checksum"),
        os_hash_algo=image.get("os_hash_algo"),
        os_hash_value=image.get("os_hash_value"),
        min_disk=image.get("min_disk") or 0,
        min_ram=image.get("min_ram") or 0,
        properties={k: v for k, v in image.items() if k not in RESERVED},
    )
