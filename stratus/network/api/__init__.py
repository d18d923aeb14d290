"""Networking API v2.0 over HTTP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from stratus.core.api.app import create_app as create_base_app
from stratus.network.api import errors
from stratus.network.api.errors import neutron_error

if TYPE_CHECKING:
    from stratus.network.service import NetworkService


class StripJsonSuffix:
    """Neutron answers ``/v2.0/networks.json`` like ``/v2.0/networks`` (openstacksdk uses it for quotas)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].endswith(".json"):
            scope = {**scope, "path": scope["path"][: -len(".json")]}
        await self.app(scope, receive, send)


def create_app(service: NetworkService) -> FastAPI:
    from stratus.network.api import actions, agents, resources, versions

    app = create_base_app(
        title="Stratus Network", render_error=neutron_error, max_body_bytes=service.config.core.max_request_body_bytes
    )
    errors.install(app)
    app.state.service = service
    app.include_router(versions.router)
    app.include_router(actions.router)
    app.include_router(agents.router)
    for coll in resources.COLLECTIONS:
        app.include_router(resources.build_router(coll))
    app.add_middleware(StripJsonSuffix)
    return app
