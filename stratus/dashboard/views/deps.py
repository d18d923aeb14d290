"""What every view depends on: the session, the CSRF check, the logged-in user's API clients."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Form, Header, Request
from fastapi.responses import Response

from stratus.dashboard.api import ApiError, Clients, Http
from stratus.dashboard.sessions import Session
from stratus.dashboard.views.web import Web

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LoginRequired(Exception):
    """No valid session: go to the login page (with ``message`` shown there)."""

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class PageError(Exception):
    """Show the error page with this status (403 for non-admins on admin pages, 404 for unknown ids)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class CsrfRefused(PageError):
    def __init__(self) -> None:
        super().__init__(403, "The form was refused: its security token is missing or out of date. Reload and retry.")


def get_web(request: Request) -> Web:
    return request.app.state.web  # type: ignore[no-any-return]


def get_http(request: Request) -> Http:
    return request.app.state.http  # type: ignore[no-any-return]


def current_session(request: Request) -> Session:
    """This browser's session, made (anonymous) if it has none yet."""
    cached: Session | None = getattr(request.state, "session", None)
    if cached is not None:
        return cached
    request.state.started = time.perf_counter()
    web = get_web(request)
    session = web.sessions.get(request.cookies.get(web.conf.cookie_name))
    if session is None:
        session = web.sessions.create()
    request.state.session = session
    return session


def require_csrf(
    request: Request,
    csrf_token: str | None = Form(None),
    x_csrf_token: str | None = Header(None),
) -> None:
    """Every state-changing request carries the session's CSRF token (form field, or header from htmx/JS)."""
    session = current_session(request)
    if request.method in SAFE_METHODS:
        return
    if not session.check_csrf(x_csrf_token) and not session.check_csrf(csrf_token):
        raise CsrfRefused()


@dataclass
class View:
    """A logged-in request: its session, API clients, and how to answer."""

    request: Request
    session: Session
    clients: Clients
    web: Web

    @property
    def project_id(self) -> str:
        return self.session.project.id if self.session.project else ""

    def page(self, template: str, status: int = 200, **values: Any) -> Response:
        return self.web.page(self.request, template, status, **values)

    def redirect(self, url: str, *, success: str | None = None) -> Response:
        if success:
            self.session.flash("success", success)
        return self.web.redirect(self.request, url)

    def attempt(self, back: str, success: str, action: Callable[[], Any]) -> Response:
        """Run a state-changing API call; on an API error show its message on ``back`` instead of failing."""
        try:
            action()
        except ApiError as err:
            if err.status == 401:
                raise
            self.session.flash("error", str(err))
            return self.web.redirect(self.request, back)
        return self.redirect(back, success=success)


def logged_in(request: Request) -> View:
    session = current_session(request)
    if not session.logged_in:
        raise LoginRequired("Your session has ended; please log in again." if session.token else "")
    web = get_web(request)
    return View(request, session, Clients(get_http(request), session.endpoints, session.token), web)


def admin(view: View = Depends(logged_in)) -> View:
    if not view.session.is_admin:
        raise PageError(403, "This page is for cloud administrators only.")
    return view


def logged_in_post(view: View = Depends(logged_in), _csrf: None = Depends(require_csrf)) -> View:
    return view


def admin_post(view: View = Depends(admin), _csrf: None = Depends(require_csrf)) -> View:
    return view


Page = Depends(logged_in)
Post = Depends(logged_in_post)
AdminPage = Depends(admin)
AdminPost = Depends(admin_post)
