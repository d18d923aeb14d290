"""Request dependencies shared by the network routers: the service, the caller, JSON bodies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import anyio.from_thread
from fastapi import Depends, Request

from stratus.core.context import RequestContext
from stratus.network.errors import NeutronBadRequest

if TYPE_CHECKING:
    from stratus.network.service import NetworkService


def get_service(request: Request) -> NetworkService:
    return request.app.state.service  # type: ignore[no-any-return]


def _authenticate(request: Request) -> RequestContext:
    return get_service(request).authenticator(request)


Context = Depends(_authenticate)


def json_body(request: Request) -> Any:
    raw = anyio.from_thread.run(request.body)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise NeutronBadRequest("Malformed request body") from None


JsonBody = Depends(json_body)


def params(request: Request) -> list[tuple[str, str]]:
    return list(request.query_params.multi_items())
