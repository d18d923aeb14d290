"""The error body of the network API: ``{"NeutronError": {"type": ..., "message": ..., "detail": ""}}``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from stratus.core.exceptions import ServiceUnavailable, StratusError
from stratus.network.errors import DEFAULT_TYPES, error_type


def neutron_error(status: int, title: str, message: str) -> dict[str, Any]:
    """The renderer for errors raised outside the service layer (validation, unknown paths, body size)."""
    return {
        "NeutronError": {"type": DEFAULT_TYPES.get(status, title.replace(" ", "")), "message": message, "detail": ""}
    }


def install(app: FastAPI) -> None:
    """Render StratusError with its Neutron ``type`` (replaces the core handler, which knows no types)."""

    @app.exception_handler(StratusError)
    def _neutron(_request: Request, exc: StratusError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, ServiceUnavailable) else None
        if exc.status == 401:
            headers = {"WWW-Authenticate": 'Keystone uri="/"'}
        body = {"NeutronError": {"type": error_type(exc), "message": exc.message, "detail": ""}}
        return JSONResponse(body, status_code=exc.status, headers=headers)
