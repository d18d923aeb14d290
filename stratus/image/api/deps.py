"""Request dependencies shared by the image routers: the service, the caller, JSON bodies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import anyio.from_thread
from fastapi import Depends, Request

from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, UnsupportedMediaType

if TYPE_CHECKING:
    from stratus.image.service import ImageService

JSON_PATCH_TYPES = ("application/openstack-images-v2.1-json-patch", "application/openstack-images-v2.0-json-patch")


def get_service(request: Request) -> ImageService:
    return request.app.state.service  # type: ignore[no-any-return]


def _authenticate(request: Request) -> RequestContext:
    return get_service(request).authenticator(request)


Context = Depends(_authenticate)
"""Use as ``ctx: RequestContext = Context`` in a route to require a valid token."""


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _read_json(request: Request) -> Any:
    """The parsed body; runs in a worker thread and borrows the event loop only to read it."""
    raw = anyio.from_thread.run(request.body)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Malformed request body: the body is not valid JSON.") from None


def json_body(request: Request) -> Any:
    kind = media_type(request)
    if kind and kind != "application/json" and not kind.endswith("+json"):
        raise UnsupportedMediaType(f"Unsupported Content-Type {kind!r}: expected application/json.")
    return _read_json(request)


def patch_body(request: Request) -> Any:
    kind = media_type(request)
    if kind not in JSON_PATCH_TYPES:
        raise UnsupportedMediaType(
            f"Unsupported Content-Type {kind!r}: expected {JSON_PATCH_TYPES[0]} for image updates."
        )
    return _read_json(request)


JsonBody = Depends(json_body)
PatchBody = Depends(patch_body)
