"""Request dependencies shared by compute's routers: the service, the caller, JSON bodies, version."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import anyio.from_thread
from fastapi import Depends, Request

from stratus.compute.api.microversion import Version, api_version
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, UnsupportedMediaType

if TYPE_CHECKING:
    from stratus.compute.service import ComputeService


def get_service(request: Request) -> ComputeService:
    return request.app.state.service  # type: ignore[no-any-return]


def _authenticate(request: Request) -> RequestContext:
    return get_service(request).authenticator(request)


def json_body(request: Request) -> Any:
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind and kind != "application/json" and not kind.endswith("+json"):
        raise UnsupportedMediaType(f"Unsupported Content-Type {kind!r}: expected application/json.")
    raw = anyio.from_thread.run(request.body)
    if not raw:
        raise BadRequest("Malformed request body: the body is empty.")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest("Malformed request body: the body is not valid JSON.") from None


def _version(request: Request) -> Version:
    return api_version(request)


def query(request: Request) -> dict[str, str]:
    """Query parameters, the last value of a repeated one winning."""
    return dict(request.query_params.items())


Context = Depends(_authenticate)
"""Use as ``ctx: RequestContext = Context`` in a route to require a valid token."""
JsonBody = Depends(json_body)
ApiVersion = Depends(_version)
Query = Depends(query)
