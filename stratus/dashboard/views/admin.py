"""Admin views: hypervisors with usage, all instances, projects and users (create, roles), flavors.

Every page here depends on ``admin``: a user without the admin role gets the 403 page.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from stratus.dashboard.api.compute import is_transitional
from stratus.dashboard.charts import meter
from stratus.dashboard.views.auth import refresh_projects
from stratus.dashboard.views.deps import AdminPage, AdminPost, View

router = APIRouter(prefix="/admin")


@router.get("/")
def admin_home(view: View = AdminPage) -> Response:
    return view.redirect("/admin/hypervisors/")


@router.get("/hypervisors/")
def hypervisors(view: View = AdminPage) -> Response:
    rows = []
    for hv in sorted(view.clients.compute.hypervisors(), key=lambda h: h.get("hypervisor_hostname") or ""):
        usage = [
            meter("vCPUs", hv.get("vcpus_used", 0), hv.get("vcpus", 0)),
            meter("RAM", hv.get("memory_mb_used", 0) / 1024, hv.get("memory_mb", 0) / 1024, "GiB"),
            meter("Disk", hv.get("local_gb_used", 0), hv.get("local_gb", 0), "GiB"),
        ]
        rows.append((hv, usage))
    return view.page("admin_hypervisors.html", hypervisors=rows)


def _all_instances(view: View) -> dict[str, Any]:
    servers = view.clients.compute.servers(all_projects=True)
    servers.sort(key=lambda s: (s.get("tenant_id") or "", s.get("name") or "", s["id"]))
    projects = {p["id"]: p["name"] for p in view.clients.identity.projects()}
    return {"servers": servers, "projects": projects, "polling": any(is_transitional(s) for s in servers)}


@router.get("/instances/")
def all_instances(view: View = AdminPage) -> Response:
    return view.page("admin_instances.html", **_all_instances(view))


@router.get("/instances/rows")
def all_instance_rows(view: View = AdminPage) -> Response:
    return view.page("_admin_instance_rows.html", **_all_instances(view))


@router.get("/projects/")
def projects(view: View = AdminPage) -> Response:
    identity = view.clients.identity
    assignments: dict[str, list[str]] = {}
    for a in identity.role_assignments():
        project = (a.get("scope") or {}).get("project")
        user = a.get("user")
        if project and user:
            assignments.setdefault(project["id"], []).append(f"{user.get('name')} ({a['role'].get('name')})")
    return view.page(
        "admin_projects.html",
        projects=sorted(identity.projects(), key=lambda p: p["name"]),
        users=sorted(identity.users(), key=lambda u: u["name"]),
        roles=sorted(identity.roles(), key=lambda r: r["name"]),
        assignments=assignments,
    )


@router.post("/projects/create")
def create_project(view: View = AdminPost, name: str = Form(""), description: str = Form("")) -> Response:
    back = "/admin/projects/"
    if not name.strip():
        view.session.flash("error", "A project needs a name.")
        return view.web.redirect(view.request, back)
    return view.attempt(
        back,
        f"Project {name.strip()} created.",
        lambda: view.clients.identity.create_project(name.strip(), description),
    )


@router.post("/projects/grant")
def grant(
    view: View = AdminPost, project_id: str = Form(""), user_id: str = Form(""), role_id: str = Form("")
) -> Response:
    back = "/admin/projects/"
    if not (project_id and user_id and role_id):
        view.session.flash("error", "Choose a user, a project and a role.")
        return view.web.redirect(view.request, back)

    def give() -> None:
        view.clients.identity.grant(project_id, user_id, role_id)
        if user_id == view.session.user_id:  # a new project for oneself: show it in the switcher now
            refresh_projects(view.request, view.session)

    return view.attempt(back, "Role assigned.", give)


@router.get("/users/")
def users(view: View = AdminPage) -> Response:
    identity = view.clients.identity
    return view.page(
        "admin_users.html",
        users=sorted(identity.users(), key=lambda u: u["name"]),
        projects=sorted(identity.projects(), key=lambda p: p["name"]),
        roles=sorted(identity.roles(), key=lambda r: r["name"]),
    )


@router.post("/users/create")
def create_user(
    view: View = AdminPost,
    name: str = Form(""),
    password: str = Form(""),
    email: str = Form(""),
    project_id: str = Form(""),
    role_id: str = Form(""),
) -> Response:
    back = "/admin/users/"
    if not name.strip() or not password:
        view.session.flash("error", "A user needs a name and a password.")
        return view.web.redirect(view.request, back)
    identity = view.clients.identity

    def make() -> None:
        user = identity.create_user(name.strip(), password, email.strip(), project_id or None)
        if project_id and role_id:
            identity.grant(project_id, user["id"], role_id)

    return view.attempt(back, f"User {name.strip()} created.", make)


@router.get("/flavors/")
def flavors(view: View = AdminPage) -> Response:
    items = view.clients.compute.flavors(all_visibility=True)
    return view.page("admin_flavors.html", flavors=sorted(items, key=lambda f: (f["vcpus"], f["ram"], f["name"])))


@router.post("/flavors/create")
def create_flavor(
    view: View = AdminPost, name: str = Form(""), vcpus: int = Form(1), ram: int = Form(512), disk: int = Form(1)
) -> Response:
    return view.attempt(
        "/admin/flavors/",
        f"Flavor {name.strip()} created.",
        lambda: view.clients.compute.create_flavor(name.strip(), vcpus, ram, disk),
    )


@router.post("/flavors/{flavor_id}/delete")
def delete_flavor(flavor_id: str, view: View = AdminPost) -> Response:
    return view.attempt("/admin/flavors/", "Flavor deleted.", lambda: view.clients.compute.delete_flavor(flavor_id))
