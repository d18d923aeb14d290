"""Project > Networks, Network topology, Routers and Floating IPs (all through the Networking API).

Without a network endpoint in the catalog, ``view.clients.network`` raises NotAvailable and the
page says networking is not available.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from stratus.dashboard import topology
from stratus.dashboard.views.deps import Page, PageError, Post, View

router = APIRouter(prefix="/project")


# networks


@router.get("/networks/")
def networks(view: View = Page) -> Response:
    api = view.clients.network
    subnets: dict[str, list[dict[str, Any]]] = {}
    for subnet in api.subnets():
        subnets.setdefault(subnet["network_id"], []).append(subnet)
    items = sorted(api.networks(), key=lambda n: (n.get("name") or "", n["id"]))
    return view.page("networks.html", networks=items, subnets=subnets)


@router.post("/networks/create")
def create_network(
    view: View = Post,
    name: str = Form(""),
    subnet_name: str = Form(""),
    cidr: str = Form(""),
    gateway_ip: str = Form(""),
    enable_dhcp: bool = Form(False),
) -> Response:
    api = view.clients.network
    back = "/project/networks/"
    if not name.strip():
        view.session.flash("error", "A network needs a name.")
        return view.web.redirect(view.request, back)

    def make() -> None:
        net = api.create_network(name.strip())
        if cidr.strip():
            try:
                api.create_subnet(net["id"], subnet_name.strip(), cidr.strip(), gateway_ip.strip() or None, enable_dhcp)
            except Exception:
                api.delete_network(net["id"])  # all or nothing: no half-made network left behind
                raise

    return view.attempt(back, f"Network {name.strip()} created.", make)


@router.post("/networks/{network_id}/delete")
def delete_network(network_id: str, view: View = Post) -> Response:
    return view.attempt(
        "/project/networks/", "Network deleted.", lambda: view.clients.network.delete_network(network_id)
    )


@router.get("/topology/")
def network_topology(view: View = Page) -> Response:
    """Six list calls, whatever the number of instances."""
    api = view.clients.network
    picture = topology.layout(
        api.networks(),
        api.subnets(),
        api.routers(),
        api.ports(),
        view.clients.compute.servers(),
        api.floating_ips(),
    )
    return view.page("topology.html", picture=picture)


# routers


@router.get("/routers/")
def routers(view: View = Page) -> Response:
    api = view.clients.network
    names = {n["id"]: n.get("name") or n["id"] for n in api.networks()}
    items = sorted(api.routers(), key=lambda r: (r.get("name") or "", r["id"]))
    return view.page("routers.html", routers=items, names=names, external=api.external_networks())


@router.post("/routers/create")
def create_router(view: View = Post, name: str = Form(""), external_network_id: str = Form("")) -> Response:
    back = "/project/routers/"
    if not name.strip():
        view.session.flash("error", "A router needs a name.")
        return view.web.redirect(view.request, back)
    return view.attempt(
        back,
        f"Router {name.strip()} created.",
        lambda: view.clients.network.create_router(name.strip(), external_network_id or None),
    )


@router.get("/routers/{router_id}")
def router_detail(router_id: str, view: View = Page) -> Response:
    api = view.clients.network
    item = _own_router(view, router_id)
    interfaces = [p for p in api.ports(device_id=router_id) if p.get("device_owner", "").startswith("network:router_i")]
    subnets = api.subnets()
    networks = api.networks()
    names = {n["id"]: n.get("name") or n["id"] for n in networks}
    external = [n for n in networks if n.get("router:external")]
    return view.page(
        "router.html",
        router=item,
        interfaces=interfaces,
        choices=interface_choices(networks, subnets, interfaces),
        subnet_names={s["id"]: f"{s.get('name') or s['id'][:8]} ({s['cidr']})" for s in subnets},
        names=names,
        external=external,
    )


def interface_choices(
    networks: list[dict[str, Any]], subnets: list[dict[str, Any]], interfaces: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Subnets a router interface can go on: not on an external network (that is the gateway's job)
    and not already attached to this router."""
    internal = {n["id"] for n in networks if not n.get("router:external")}
    attached = {ip["subnet_id"] for p in interfaces for ip in p.get("fixed_ips", [])}
    return [s for s in subnets if s["network_id"] in internal and s["id"] not in attached]


def _own_router(view: View, router_id: str) -> dict[str, Any]:
    items = view.clients.network.routers(id=router_id)
    if not items or items[0].get("project_id", items[0].get("tenant_id")) != view.project_id:
        raise PageError(404, f"Router {router_id} was not found in this project.")
    return items[0]


@router.post("/routers/{router_id}/interfaces")
def add_interface(router_id: str, view: View = Post, subnet_id: str = Form("")) -> Response:
    _own_router(view, router_id)
    back = f"/project/routers/{router_id}"
    return view.attempt(back, "Interface added.", lambda: view.clients.network.add_interface(router_id, subnet_id))


@router.post("/routers/{router_id}/interfaces/{subnet_id}/remove")
def remove_interface(router_id: str, subnet_id: str, view: View = Post) -> Response:
    _own_router(view, router_id)
    back = f"/project/routers/{router_id}"
    return view.attempt(back, "Interface removed.", lambda: view.clients.network.remove_interface(router_id, subnet_id))


@router.post("/routers/{router_id}/gateway")
def set_gateway(router_id: str, view: View = Post, external_network_id: str = Form("")) -> Response:
    _own_router(view, router_id)
    back = f"/project/routers/{router_id}"
    message = "Gateway set." if external_network_id else "Gateway cleared."
    return view.attempt(back, message, lambda: view.clients.network.set_gateway(router_id, external_network_id or None))


@router.post("/routers/{router_id}/delete")
def delete_router(router_id: str, view: View = Post) -> Response:
    _own_router(view, router_id)
    return view.attempt("/project/routers/", "Router deleted.", lambda: view.clients.network.delete_router(router_id))


# floating IPs


@router.get("/floating-ips/")
def floating_ips(view: View = Page) -> Response:
    api = view.clients.network
    ports = {p["id"]: p for p in api.ports(project_id=view.project_id)}
    servers = {s["id"]: s for s in view.clients.compute.servers()}
    targets = [
        (p["id"], f"{servers[p['device_id']].get('name')}: {', '.join(ip['ip_address'] for ip in p['fixed_ips'])}")
        for p in ports.values()
        if p.get("device_id") in servers
    ]
    return view.page(
        "floating_ips.html",
        fips=api.floating_ips(project_id=view.project_id),
        ports=ports,
        servers=servers,
        targets=sorted(targets, key=lambda t: t[1]),
        external=api.external_networks(),
        names={n["id"]: n.get("name") or n["id"] for n in api.external_networks()},
    )


@router.post("/floating-ips/allocate")
def allocate(view: View = Post, network_id: str = Form("")) -> Response:
    return view.attempt(
        "/project/floating-ips/",
        "Floating IP allocated.",
        lambda: view.clients.network.allocate_floating_ip(network_id),
    )


@router.post("/floating-ips/{fip_id}/associate")
def associate(fip_id: str, view: View = Post, port_id: str = Form("")) -> Response:
    return view.attempt(
        "/project/floating-ips/",
        "Floating IP associated." if port_id else "Floating IP disassociated.",
        lambda: view.clients.network.associate(fip_id, port_id or None),
    )


@router.post("/floating-ips/{fip_id}/release")
def release(fip_id: str, view: View = Post) -> Response:
    return view.attempt(
        "/project/floating-ips/", "Floating IP released.", lambda: view.clients.network.release_floating_ip(fip_id)
    )
