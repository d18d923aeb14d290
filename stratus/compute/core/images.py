"""Image lookups through the image API, with the caller's token (as Nova asks Glance)."""

from __future__ import annotations

from typing import Any

import httpx

from stratus.compute.messages import ImageSpec
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, Forbidden, NotFound, ServiceUnavailable
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

    # the image proxy (Nova's /images API, up to 2.35; its metadata up to 2.38)

    def _http(self, ctx: RequestContext) -> httpx.Client:
        return httpx.Client(
            base_url=self.image_url.rstrip("/"),
            headers={"X-Auth-Token": ctx.token or ""},
            timeout=30.0,
            transport=self.transport,
        )

    def _call(self, ctx: RequestContext, method: str, path: str, image_id: str | None = None, **kw: Any) -> Any:
        """One image API call; its errors as the compute API answers them (404, 403, 400, else 503)."""
        try:
            with self._http(ctx) as http:
                resp = http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"The image service is unreachable: {exc}") from None
        if resp.status_code == 404:
            raise NotFound(f"Image {image_id} could not be found." if image_id else "Image not found.")
        if resp.status_code == 403:
            raise Forbidden(f"Not allowed to act on image {image_id}.")
        if resp.status_code in (400, 409, 413):
            raise BadRequest(f"The image service refused the request: {resp.text[:200]}")
        if resp.status_code >= 400:
            raise ServiceUnavailable(f"The image service answered {resp.status_code}: {resp.text[:200]}")
        return resp.json() if resp.content else None

    def proxy_list(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """Every image the caller sees, newest first (filters and pages are applied by the caller)."""
        images: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 1000, "sort_key": "created_at", "sort_dir": "desc"}
        while True:
            page = self._call(ctx, "GET", "/v2/images", params=params)
            images.extend(page.get("images", []))
            if not page.get("next") or not page.get("images"):
                return images
            params = {**params, "marker": page["images"][-1]["id"]}

    def proxy_get(self, ctx: RequestContext, image_id: str) -> dict[str, Any]:
        return self._call(ctx, "GET", f"/v2/images/{image_id}", image_id)  # type: ignore[no-any-return]

    def proxy_delete(self, ctx: RequestContext, image_id: str) -> None:
        self._call(ctx, "DELETE", f"/v2/images/{image_id}", image_id)

    def proxy_patch(self, ctx: RequestContext, image_id: str, ops: list[dict[str, Any]]) -> dict[str, Any]:
        headers = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
        return self._call(ctx, "PATCH", f"/v2/images/{image_id}", image_id, json=ops, headers=headers)  # type: ignore[no-any-return]

    def delete_backups(
        self, ctx: RequestContext, instance_uuid: str, backup_type: str, *, keep: int, exclude: str | None = None
    ) -> None:
        """Delete the oldest backups of ``backup_type`` of a server beyond the newest ``keep`` (Nova's rotation)."""
        try:
            with self._client(ctx) as client:
                images = [
                    i
                    for i in client.list_images(instance_uuid=instance_uuid, image_type="backup")
                    if i.get("instance_uuid") == instance_uuid
                    and i.get("image_type") == "backup"
                    and i.get("backup_type") == backup_type
                    and i["id"] != exclude
                ]
                images.sort(key=lambda i: (i.get("created_at") or "", i["id"]), reverse=True)
                for image in images[keep:]:
                    try:
                        client.delete(image["id"])
                    except ImageClientError as exc:
                        if exc.status != 404:
                            raise
        except (ImageClientError, httpx.HTTPError) as exc:
            raise ServiceUnavailable(f"Could not rotate the backups of {instance_uuid}: {exc}") from None

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


def properties(image: dict[str, Any]) -> dict[str, Any]:
    """An image's own properties (what Nova shows as its metadata)."""
    return {k: v for k, v in image.items() if k not in RESERVED}


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
        properties=properties(image),
    )
