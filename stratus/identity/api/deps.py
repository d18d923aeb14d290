"""Request dependencies shared by identity's routers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request

from stratus.core.api.auth import Authenticator
from stratus.core.context import RequestContext

if TYPE_CHECKING:
    from stratus.identity.service import IdentityService


def get_service(request: Request) -> IdentityService:
    return request.app.state.service  # type: ignore[no-any-return]


def _authenticate(request: Request) -> RequestContext:
    return Authenticator(get_service(request).tokens.validator)(request)


Context = Depends(_authenticate)
"""Use as ``ctx: RequestContext = Context`` in a route to require a valid token."""


def enforce(request: Request, ctx: RequestContext, rule: str, target: dict[str, Any] | None = None) -> None:
    get_service(request).enforcer.enforce(ctx, rule, target)
