"""Rendering errors as OpenStack-style bodies; each service supplies its own body shape."""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from stratus.core.db.engine import OUTAGE_MESSAGE, is_outage
from stratus.core.exceptions import STATUS_TITLES, ServiceUnavailable, StratusError

LOG = logging.getLogger(__name__)

ErrorRenderer = Callable[[int, str, str], dict[str, Any]]
"""(status, title, message) -> JSON body."""


def keystone_error(status: int, title: str, message: str) -> dict[str, Any]:
    """Identity's shape: ``{"error": {"code": 404, "title": "Not Found", "message": ...}}``."""
    return {"error": {"code": status, "title": title, "message": message}}


def title_for(status: int) -> str:
    if status in STATUS_TITLES:
        return STATUS_TITLES[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def describe_validation_error(exc: RequestValidationError) -> str:
    """One readable sentence from pydantic's error list, naming the offending field."""
    parts = []
    for err in exc.errors()[:5]:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body",)]
        where = ".".join(loc)
        if err.get("type") == "json_invalid":
            return "Malformed request body: the body is not valid JSON."
        parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
    return "Invalid input for field/attribute: " + "; ".join(parts)


def install_error_handlers(app: FastAPI, render: ErrorRenderer) -> None:
    def respond(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(render(status, title_for(status), message), status_code=status, headers=headers)

    @app.exception_handler(StratusError)
    def _stratus(_request: Request, exc: StratusError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, ServiceUnavailable) else None
        if exc.status == 401:
            headers = {"WWW-Authenticate": 'Keystone uri="/"'}
        return respond(exc.status, exc.message, headers)

    @app.exception_handler(RequestValidationError)
    def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return respond(400, describe_validation_error(exc))

    @app.exception_handler(StarletteHTTPException)
    def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else title_for(exc.status_code)
        if exc.status_code == 404 and message == "Not Found":
            message = "The resource could not be found."
        return respond(exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(DataError)
    def _data(_request: Request, exc: DataError) -> JSONResponse:
        # the database refused a value the schema let through (a NUL character, an out-of-range
        # number): the transaction was rolled back, so this is the client's 400, not our 500
        LOG.info("database refused a value: %s", exc.orig)
        return respond(400, "Invalid input: a value is not acceptable (out of range or holds a NUL character).")

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        LOG.exception("unexpected error handling %s %s", request.method, request.url.path)
        return respond(500, "An unexpected error prevented the server from fulfilling your request.")

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    def _database(request: Request, exc: OperationalError | InterfaceError) -> JSONResponse:
        # Database.session()/reader() already turn an outage into ServiceUnavailable; this catches the code
        # paths that use the engine directly, so a PostgreSQL restart is a 503 there too, never a 500
        if is_outage(exc):
            LOG.warning("database unavailable handling %s %s: %s", request.method, request.url.path, exc.orig)
            return respond(503, OUTAGE_MESSAGE, {"Retry-After": str(ServiceUnavailable().retry_after)})
        return _unexpected(request, exc)
