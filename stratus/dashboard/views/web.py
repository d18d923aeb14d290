"""Rendering pages and answering requests: templates, the session cookie, redirects that htmx follows too."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from stratus.dashboard import charts
from stratus.dashboard.conf import DashboardConfig

if TYPE_CHECKING:
    from stratus.dashboard.sessions import Session, SessionStore

HTMX = "htmx-2.0.11.min.js"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class Web:
    """Everything the views share: templates, the session store, the cookie settings."""

    def __init__(self, conf: DashboardConfig, sessions: SessionStore):
        self.conf = conf
        self.sessions = sessions
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("stratus.dashboard", "templates"),
            autoescape=True,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals.update(htmx=HTMX, donut=charts.donut, meter=charts.meter, poll=conf.poll_interval)
        self.env.filters["mib"] = charts.format_mib
        self.env.filters["bytes"] = charts.format_bytes

    def set_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(
            self.conf.cookie_name,
            session.id,
            httponly=True,
            samesite=self.conf.cookie_samesite,
            secure=self.conf.cookie_secure,
            path="/",
        )

    def finish(self, request: Request, response: Response) -> Response:
        """Attach the cookie when this request made or replaced the session, and the server timing."""
        session: Session | None = getattr(request.state, "session", None)
        if session is not None and request.cookies.get(self.conf.cookie_name) != session.id:
            self.set_cookie(response, session)
        if session is None and getattr(request.state, "drop_cookie", False):
            response.delete_cookie(self.conf.cookie_name, path="/")
        started = getattr(request.state, "started", None)
        if started is not None:
            response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", CSP)
        return response

    def page(self, request: Request, template: str, status: int = 200, **values: Any) -> Response:
        session: Session | None = getattr(request.state, "session", None)
        context = {
            "request": request,
            "path": request.url.path,
            "session": session if session is not None and session.logged_in else None,
            "csrf": session.csrf if session is not None else "",
            "flashes": session.pop_flashes() if session is not None else [],
            "networking": bool(session and session.endpoints.get("network")),
            **values,
        }
        html = self.env.get_template(template).render(context)
        return self.finish(request, HTMLResponse(html, status_code=status))

    def redirect(self, request: Request, url: str) -> Response:
        """303 to ``url``; for an htmx request, ``HX-Redirect`` so the whole page moves."""
        if request.headers.get("HX-Request"):
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=303)
        return self.finish(request, response)


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"
