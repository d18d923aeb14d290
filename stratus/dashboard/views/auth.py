"""Log in, log out, switch project. Tokens go from identity into the server-side session and nowhere else."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from stratus.dashboard.api import ApiError, Auth, TokenInfo, Unauthorized, endpoints_from_catalog
from stratus.dashboard.sessions import Project, Session
from stratus.dashboard.views.deps import View, current_session, get_http, get_web, logged_in_post, require_csrf

LOG = logging.getLogger(__name__)
router = APIRouter()


def _auth(request: Request) -> Auth:
    return Auth(get_http(request), request.app.state.identity_url)


def _apply(request: Request, session: Session, info: TokenInfo) -> None:
    conf = get_web(request).conf
    session.token, session.token_expires = info.token, info.expires
    session.project = Project(info.project_id, info.project_name)
    session.roles = info.roles
    session.endpoints = endpoints_from_catalog(info.catalog, conf.interface, conf.region)


@router.get("/")
def root(request: Request) -> Response:
    session = current_session(request)
    return get_web(request).redirect(request, "/project/" if session.logged_in else "/auth/login")


@router.get("/auth/login")
def login_form(request: Request) -> Response:
    session = current_session(request)
    web = get_web(request)
    if session.logged_in:
        return web.redirect(request, "/project/")
    return web.page(request, "login.html", domain=web.conf.default_domain, username="", error="")


@router.post("/auth/login")
def login(
    request: Request,
    _csrf: None = Depends(require_csrf),
    username: str = Form(""),
    password: str = Form(""),
    domain: str = Form(""),
) -> Response:
    web = get_web(request)
    auth = _auth(request)
    domain = domain.strip() or web.conf.default_domain

    def again(error: str, status: int) -> Response:
        return web.page(request, "login.html", status, domain=domain, username=username, error=error)

    if not username or not password:
        return again("Enter your user name and password.", 400)
    try:
        first = auth.password(username, password, domain)
        projects = sorted(auth.projects(first.token), key=lambda p: p["name"])
        if not projects:
            auth.revoke(first.token)
            return again("You have no role on any project, so there is nothing to show. Ask an administrator.", 403)
        scoped = first
        if first.project_id not in {p["id"] for p in projects}:
            scoped = auth.rescope(first.token, projects[0]["id"])
    except Unauthorized:
        LOG.info("dashboard login refused for user %r in domain %r", username, domain)
        return again("Invalid user name, password or domain.", 401)
    except ApiError as err:
        return again(str(err), 502 if err.status >= 500 else 400)
    session = web.sessions.rotate(current_session(request))  # a fresh id at login: no session fixation
    request.state.session = session
    session.user_id, session.user_name, session.domain_name = first.user_id, first.user_name, first.domain_name
    session.unscoped_token = first.token
    session.projects = [Project(p["id"], p["name"]) for p in projects]
    _apply(request, session, scoped)
    LOG.info("dashboard login: user %s, project %s", session.user_name, scoped.project_name)
    return web.redirect(request, "/project/")


def refresh_projects(request: Request, session: Session) -> None:
    """Re-read the projects the user has a role on (the switcher's list), after a grant changed them."""
    projects = _auth(request).projects(session.unscoped_token)
    session.projects = [Project(p["id"], p["name"]) for p in sorted(projects, key=lambda p: p["name"])]


def end_session(request: Request, session: Session) -> None:
    """Revoke the session's tokens (scoped and the login one) and forget the session."""
    auth = _auth(request)
    for token in dict.fromkeys((session.token, session.unscoped_token)):
        if token:
            try:
                auth.revoke(token)
            except ApiError as err:  # the session ends here whatever identity says
                LOG.warning("could not revoke a dashboard token: %s", err)
    get_web(request).sessions.delete(session.id)
    request.state.session = None
    request.state.drop_cookie = True


@router.post("/auth/logout")
def logout(request: Request, _csrf: None = Depends(require_csrf)) -> Response:
    session = current_session(request)
    if session.token:
        end_session(request, session)
    fresh = get_web(request).sessions.create()
    fresh.flash("success", "You have logged out.")
    request.state.session = fresh
    return get_web(request).redirect(request, "/auth/login")


@router.post("/auth/switch")
def switch_project(project_id: str = Form(...), view: View = Depends(logged_in_post)) -> Response:
    session = view.session
    if project_id not in {p.id for p in session.projects}:
        session.flash("error", "You are not a member of that project.")
        return view.web.redirect(view.request, "/project/")
    auth = _auth(view.request)
    old = session.token
    info = auth.rescope(session.unscoped_token, project_id)
    _apply(view.request, session, info)
    if old != session.unscoped_token:
        try:
            auth.revoke(old)
        except ApiError as err:
            LOG.warning("could not revoke the previous project token: %s", err)
    return view.redirect("/project/", success=f"Now working in project {info.project_name}.")
