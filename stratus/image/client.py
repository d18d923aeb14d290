"""A small typed client of the Image v2 API for other services (compute downloads images with it).

Data is streamed both ways in chunks, never held in memory whole; a download is written to a
temporary file beside ``dest``, checked against the expected md5 / sha512 while it streams, and
renamed into place only when it matches.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

CHUNK = 1024 * 1024


class ImageClientError(Exception):
    """The image API refused a call; ``status`` is the HTTP status, the message its explanation."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class ChecksumMismatch(ImageClientError):
    """The downloaded data does not match the expected checksum."""


def _raise_for(resp: httpx.Response) -> None:
    if resp.status_code < 400:
        return
    try:
        message = resp.json().get("message") or resp.text
    except ValueError:
        message = resp.text
    raise ImageClientError(resp.status_code, message)


class ImageClient:
    def __init__(
        self, base_url: str, token: str, *, timeout: float = 60.0, transport: httpx.BaseTransport | None = None
    ):
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers={"X-Auth-Token": token}, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ImageClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def get_image(self, image_id: str) -> dict[str, Any]:
        resp = self._http.get(f"/v2/images/{image_id}")
        _raise_for(resp)
        return resp.json()  # type: ignore[no-any-return]

    def list_images(self, **filters: Any) -> list[dict[str, Any]]:
        """Images matching ``filters`` (one page of up to 1000; enough for look-ups by name)."""
        resp = self._http.get("/v2/images", params={"limit": 1000, **filters})
        _raise_for(resp)
        return resp.json()["images"]  # type: ignore[no-any-return]

    def create_image(self, **fields: Any) -> dict[str, Any]:
        resp = self._http.post("/v2/images", json=fields)
        _raise_for(resp)
        return resp.json()  # type: ignore[no-any-return]

    def delete(self, image_id: str) -> None:
        _raise_for(self._http.delete(f"/v2/images/{image_id}"))

    def upload(self, image_id: str, src: Path) -> None:
        def chunks() -> Iterator[bytes]:
            with open(src, "rb") as f:
                while chunk := f.read(CHUNK):
                    yield chunk

        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(src.stat().st_size)}
        _raise_for(self._http.put(f"/v2/images/{image_id}/file", content=chunks(), headers=headers))

    def download(
        self, image_id: str, dest: Path, *, expected_md5: str | None = None, expected_sha512: str | None = None
    ) -> int:
        """Write the image data to ``dest`` (atomically); returns its size. Raises ChecksumMismatch."""
        md5, sha512 = hashlib.md5(usedforsecurity=False), hashlib.sha512()
        temp = dest.with_name(f".{dest.name}.part")
        size = 0
        try:
            with self._http.stream("GET", f"/v2/images/{image_id}/file") as resp:
                if resp.status_code >= 400:
                    resp.read()
                    _raise_for(resp)
                if resp.status_code == 204:
                    raise ImageClientError(204, f"Image {image_id} has no data.")
                expected_md5 = expected_md5 or resp.headers.get("Content-MD5")
                with open(temp, "wb") as out:
                    for chunk in resp.iter_bytes(CHUNK):
                        md5.update(chunk)
                        sha512.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                    out.flush()
                    os.fsync(out.fileno())
            for name, want, got in (("md5", expected_md5, md5), ("sha512", expected_sha512, sha512)):
                if want and got.hexdigest() != want:
                    raise ChecksumMismatch(200, f"{name} of image {image_id} is {got.hexdigest()}, expected {want}")
            os.replace(temp, dest)
            return size
        finally:
            temp.unlink(missing_ok=True)
