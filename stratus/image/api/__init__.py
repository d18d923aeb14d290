"""Image v2 HTTP API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI

from stratus.core.api.app import create_app as create_base_app
from stratus.image.api.errors import glance_error

if TYPE_CHECKING:
    from stratus.image.service import ImageService

DATA_PATHS = r"^/v2/images/[^/]+/file$"
"""Upload bodies stream to the store and are exempt from the JSON body size limit."""


def create_app(service: ImageService) -> FastAPI:
    from stratus.image.api import data, images, info, members, schemas, tags, versions

    app = create_base_app(
        title="Stratus Image",
        render_error=glance_error,
        max_body_bytes=service.config.core.max_request_body_bytes,
        unlimited_body_paths=DATA_PATHS,
    )
    app.state.service = service
    for module in (versions, schemas, info, images, data, tags, members):
        app.include_router(module.router)
    return app
