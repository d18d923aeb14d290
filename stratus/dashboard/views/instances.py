"""Project > Instances: the live list, the launch dialog, one instance's page, its console, actions, floating IP."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from stratus.dashboard.api import ApiError, NotAvailable
from stratus.dashboard.api.compute import is_transitional
from stratus.dashboard.views.deps import Page, PageError, Post, View
from stratus.dashboard.views.web import is_htmx

router = APIRouter(prefix="/project/instances")
ACTIONS = {"stop": "Stopping", "start": "Starting", "reboot": "Rebooting", "delete": "Deleting"}


def image_names(view: View) -> dict[str, str]:
    return {i["id"]: i.get("name") or i["id"] for i in view.clients.image.images()}


def rows_context(view: View) -> dict[str, Any]:
    servers = sorted(view.clients.compute.servers(), key=lambda s: (s.get("name") or "", s["id"]))
    return {
        "servers": servers,
        "images": image_names(view),
        "polling": any(is_transitional(s) for s in servers),
    }


@router.get("/")
def instances(view: View = Page) -> Response:
    return view.page("instances.html", **rows_context(view))


@router.get("/rows")
def instance_rows(view: View = Page) -> Response:
    """The table body alone: htmx swaps it in every few seconds while any instance is changing."""
    return view.page("_instance_rows.html", **rows_context(view))


def _launch_choices(view: View) -> dict[str, Any]:
    compute = view.clients.compute
    images = [i for i in view.clients.image.images() if i.get("status") == "active"]
    choices: dict[str, Any] = {
        "images": images,
        "flavors": sorted(compute.flavors(), key=lambda f: (f["vcpus"], f["ram"], f["name"])),
        "keypairs": compute.keypairs(),
        "networks": [],
        "security_groups": [],
    }
    if view.clients.has("network"):
        choices["networks"] = [n for n in view.clients.network.networks() if not n.get("router:external")]
        choices["security_groups"] = view.clients.network.security_groups(project_id=view.project_id)
    return choices


@router.get("/launch")
def launch_form(view: View = Page) -> Response:
    template = "_launch_form.html" if is_htmx(view.request) else "launch.html"
    return view.page(template, **_launch_choices(view))


@router.post("/launch")
def launch(
    view: View = Post,
    name: str = Form(""),
    image_id: str = Form(""),
    flavor_id: str = Form(""),
    network_id: list[str] = Form([]),
    key_name: str = Form(""),
    security_group: list[str] = Form([]),
    user_data: str = Form(""),
) -> Response:
    if not name.strip() or not image_id or not flavor_id:
        view.session.flash("error", "An instance needs a name, an image and a flavor.")
        return view.web.redirect(view.request, "/project/instances/")
    networks: list[str] | str = [n for n in network_id if n] or ("auto" if view.clients.has("network") else "none")
    return view.attempt(
        "/project/instances/",
        f"Launching instance {name.strip()}.",
        lambda: view.clients.compute.create_server(
            name=name.strip(),
            image_id=image_id,
            flavor_id=flavor_id,
            networks=networks,
            key_name=key_name,
            security_groups=[s for s in security_group if s],
            user_data=user_data,
        ),
    )


def own_server(view: View, server_id: str) -> dict[str, Any]:
    """The server if it belongs to the current project; another project's id is simply not found."""
    try:
        server = view.clients.compute.server(server_id)
    except ApiError as err:
        if err.status in (400, 404):
            raise PageError(404, f"Instance {server_id} was not found in this project.") from None
        raise
    if server.get("tenant_id") != view.project_id:
        raise PageError(404, f"Instance {server_id} was not found in this project.")
    return server


def _floating(view: View, server_id: str) -> dict[str, Any]:
    """The instance's ports, its floating IPs, the free ones and the external networks (4 list calls)."""
    if not view.clients.has("network"):
        return {"ports": [], "attached": [], "free": [], "external": []}
    network = view.clients.network
    ports = network.ports(device_id=server_id)
    port_ids = {p["id"] for p in ports}
    fips = network.floating_ips(project_id=view.project_id)
    return {
        "ports": ports,
        "attached": [f for f in fips if f.get("port_id") in port_ids],
        "free": [f for f in fips if not f.get("port_id")],
        "external": network.external_networks(),
    }


@router.get("/{server_id}")
def instance(server_id: str, view: View = Page) -> Response:
    server = own_server(view, server_id)
    template = "_instance_status.html" if is_htmx(view.request) else "instance.html"
    values: dict[str, Any] = {"server": server, "polling": is_transitional(server)}
    if template == "instance.html":
        values.update(_floating(view, server_id), images=image_names(view))
    return view.page(template, **values)


@router.get("/{server_id}/console")
def console(server_id: str, view: View = Page) -> Response:
    server = own_server(view, server_id)
    try:
        output = view.clients.compute.console_log(server_id)
    except ApiError as err:
        if err.status == 401:
            raise
        output, error = "", str(err)
    else:
        error = ""
    template = "_console.html" if is_htmx(view.request) else "console.html"
    return view.page(template, server=server, output=output, error=error)


@router.post("/{server_id}/action")
def action(server_id: str, view: View = Post, action: str = Form("")) -> Response:
    if action not in ACTIONS:
        raise PageError(400, f"Unknown action {action!r}.")
    server = own_server(view, server_id)
    back = "/project/instances/" if action == "delete" else f"/project/instances/{server_id}"
    message = f"{ACTIONS[action]} instance {server.get('name')}."
    return view.attempt(back, message, lambda: view.clients.compute.action(server_id, action))


@router.post("/{server_id}/floating-ip")
def associate(
    server_id: str, view: View = Post, floating_ip_id: str = Form(""), network_id: str = Form("")
) -> Response:
    own_server(view, server_id)
    back = f"/project/instances/{server_id}"
    try:
        network = view.clients.network
    except NotAvailable as err:
        raise PageError(503, str(err)) from None
    ports = network.ports(device_id=server_id)
    if not ports:
        view.session.flash("error", "This instance has no network port to attach a floating IP to.")
        return view.web.redirect(view.request, back)
    port_id = ports[0]["id"]
    if floating_ip_id:
        return view.attempt(back, "Floating IP associated.", lambda: network.associate(floating_ip_id, port_id))
    if network_id:
        return view.attempt(
            back, "Floating IP allocated and associated.", lambda: network.allocate_floating_ip(network_id, port_id)
        )
    view.session.flash("error", "Choose a floating IP or an external network to allocate one from.")
    return view.web.redirect(view.request, back)


@router.post("/{server_id}/floating-ip/{floating_ip_id}/disassociate")
def disassociate(server_id: str, floating_ip_id: str, view: View = Post) -> Response:
    own_server(view, server_id)
    back = f"/project/instances/{server_id}"
    return view.attempt(
        back, "Floating IP disassociated.", lambda: view.clients.network.associate(floating_ip_id, None)
    )
