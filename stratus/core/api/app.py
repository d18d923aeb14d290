"""The app factory every service's API uses."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from stratus.core.api.errors import ErrorRenderer, install_error_handlers
from stratus.core.api.middleware import BodyLimitMiddleware, RequestIdMiddleware
from stratus.core.api.sanitize import reject_nul_in_url


def create_app(
    *,
    title: str,
    render_error: ErrorRenderer,
    max_body_bytes: int = 1024 * 1024,
    unlimited_body_paths: str | None = None,
    extra_request_id_headers: tuple[str, ...] = (),
) -> FastAPI:
    """A FastAPI app with OpenStack-style errors, request ids and a body size limit.

    ``unlimited_body_paths`` is a regex of paths that stream large bodies (image data).
    """
    app = FastAPI(
        title=title,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        dependencies=[Depends(reject_nul_in_url)],
    )
    install_error_handlers(app, render_error)
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=max_body_bytes, render=render_error, unlimited_paths=unlimited_body_paths
    )
    app.add_middleware(RequestIdMiddleware, extra_headers=extra_request_id_headers)
    return app
