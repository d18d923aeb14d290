"""Identity v3 HTTP API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from stratus.core.api.app import create_app as create_base_app
from stratus.core.api.errors import keystone_error

if TYPE_CHECKING:
    from stratus.identity.service import IdentityService


def create_app(service: IdentityService) -> FastAPI:
    from stratus.identity.api import routers

    app = create_base_app(
        title="Stratus Identity",
        render_error=keystone_error,
        max_body_bytes=service.config.core.max_request_body_bytes,
    )
    app.state.service = service
    for router in routers.all_routers():
        app.include_router(router)
    return app
