"""The dashboard's FastAPI app: routes, static files, and errors as pages (never tracebacks, never echoed input)."""

from __future__ import annotations

import logging
from importlib import resources
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from stratus.dashboard.api import ApiError, NotAvailable, Unauthorized
from stratus.dashboard.views import access, admin, auth, images, instances, networks, overview
from stratus.dashboard.views.deps import LoginRequired, PageError, current_session, get_web

if TYPE_CHECKING:
    from stratus.dashboard.service import DashboardService

LOG = logging.getLogger(__name__)
TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Not allowed", 503: "Not available"}


def error_page(request: Request, status: int, message: str) -> Response:
    current_session(request)
    title = TITLES.get(status, "Something went wrong")
    return get_web(request).page(request, "error.html", status, code=status, title=title, message=message)


def to_login(request: Request, message: str) -> Response:
    web = get_web(request)
    session = current_session(request)
    if session.token:  # the token is dead or the session expired: start clean
        auth.end_session(request, session)
        session = web.sessions.create()
        request.state.session = session
    if message:
        session.flash("info", message)
    return web.redirect(request, "/auth/login")


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    def _login(request: Request, exc: LoginRequired) -> Response:
        return to_login(request, exc.message)

    @app.exception_handler(PageError)
    def _page(request: Request, exc: PageError) -> Response:
        return error_page(request, exc.status, exc.message)

    @app.exception_handler(NotAvailable)
    def _unavailable(request: Request, exc: NotAvailable) -> Response:
        return error_page(request, 503, str(exc))

    @app.exception_handler(Unauthorized)
    def _unauthorized(request: Request, exc: Unauthorized) -> Response:
        return to_login(request, "Your session has ended; please log in again.")

    @app.exception_handler(ApiError)
    def _api(request: Request, exc: ApiError) -> Response:
        status = exc.status if exc.status in (400, 403, 404, 409) else 502
        return error_page(request, status, str(exc))

    @app.exception_handler(RequestValidationError)
    def _invalid(request: Request, exc: RequestValidationError) -> Response:
        # Name the fields but never echo what was sent (it may be a password).
        fields = sorted({str(e["loc"][-1]) for e in exc.errors() if e.get("loc")})
        return error_page(request, 400, f"The form is incomplete or invalid ({', '.join(fields) or 'request'}).")

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return error_page(request, exc.status_code, message)

    @app.exception_handler(Exception)
    def _crash(request: Request, exc: Exception) -> Response:
        LOG.exception("dashboard error on %s %s", request.method, request.url.path)
        return error_page(request, 500, "An unexpected error happened; it has been logged.")


def create_app(service: DashboardService) -> FastAPI:
    app = FastAPI(title="Stratus dashboard", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = service.web
    app.state.http = service.http
    app.state.identity_url = service.identity_url
    install_error_pages(app)
    static = resources.files("stratus.dashboard") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for module in (auth, overview, instances, images, networks, access, admin):
        app.include_router(module.router)
    return app
