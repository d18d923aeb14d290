"""Project > Security groups (and their rules) and Key pairs (import)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form
from fastapi.responses import Response

from stratus.dashboard.api import ApiError
from stratus.dashboard.views.deps import Page, PageError, Post, View

router = APIRouter(prefix="/project")
PROTOCOLS = ("any", "tcp", "udp", "icmp")


@router.get("/security-groups/")
def security_groups(view: View = Page) -> Response:
    groups = view.clients.network.security_groups(project_id=view.project_id)
    return view.page("security_groups.html", groups=sorted(groups, key=lambda g: g.get("name") or ""))


@router.post("/security-groups/create")
def create_group(view: View = Post, name: str = Form(""), description: str = Form("")) -> Response:
    back = "/project/security-groups/"
    if not name.strip():
        view.session.flash("error", "A security group needs a name.")
        return view.web.redirect(view.request, back)
    return view.attempt(
        back,
        f"Security group {name.strip()} created.",
        lambda: view.clients.network.create_security_group(name.strip(), description),
    )


def _own_group(view: View, sg_id: str) -> dict[str, Any]:
    try:
        group = view.clients.network.security_group(sg_id)
    except ApiError as err:
        if err.status == 404:
            raise PageError(404, f"Security group {sg_id} was not found in this project.") from None
        raise
    if group.get("project_id", group.get("tenant_id")) != view.project_id:
        raise PageError(404, f"Security group {sg_id} was not found in this project.")
    return group


@router.get("/security-groups/{sg_id}")
def security_group(sg_id: str, view: View = Page) -> Response:
    group = _own_group(view, sg_id)
    names = {g["id"]: g.get("name") for g in view.clients.network.security_groups(project_id=view.project_id)}
    return view.page("security_group.html", group=group, protocols=PROTOCOLS, names=names)


@router.post("/security-groups/{sg_id}/rules")
def add_rule(
    sg_id: str,
    view: View = Post,
    direction: str = Form("ingress"),
    ethertype: str = Form("IPv4"),
    protocol: str = Form("tcp"),
    port_min: str = Form(""),
    port_max: str = Form(""),
    remote_ip_prefix: str = Form(""),
) -> Response:
    _own_group(view, sg_id)
    back = f"/project/security-groups/{sg_id}"
    if direction not in ("ingress", "egress") or ethertype not in ("IPv4", "IPv6") or protocol not in PROTOCOLS:
        raise PageError(400, "Unknown direction, ether type or protocol.")
    fields: dict[str, Any] = {"security_group_id": sg_id, "direction": direction, "ethertype": ethertype}
    if protocol != "any":
        fields["protocol"] = protocol
    try:
        if port_min.strip():
            fields["port_range_min"] = int(port_min)
            fields["port_range_max"] = int(port_max) if port_max.strip() else int(port_min)
    except ValueError:
        view.session.flash("error", "Ports must be numbers.")
        return view.web.redirect(view.request, back)
    if remote_ip_prefix.strip():
        fields["remote_ip_prefix"] = remote_ip_prefix.strip()
    return view.attempt(back, "Rule added.", lambda: view.clients.network.create_rule(fields))


@router.post("/security-groups/{sg_id}/rules/{rule_id}/delete")
def delete_rule(sg_id: str, rule_id: str, view: View = Post) -> Response:
    group = _own_group(view, sg_id)
    if rule_id not in {r["id"] for r in group.get("security_group_rules", [])}:
        raise PageError(404, f"Rule {rule_id} is not in this security group.")
    back = f"/project/security-groups/{sg_id}"
    return view.attempt(back, "Rule deleted.", lambda: view.clients.network.delete_rule(rule_id))


@router.post("/security-groups/{sg_id}/delete")
def delete_group(sg_id: str, view: View = Post) -> Response:
    _own_group(view, sg_id)
    return view.attempt(
        "/project/security-groups/",
        "Security group deleted.",
        lambda: view.clients.network.delete_security_group(sg_id),
    )


@router.get("/key-pairs/")
def key_pairs(view: View = Page) -> Response:
    return view.page("key_pairs.html", keypairs=view.clients.compute.keypairs())


@router.post("/key-pairs/import")
def import_key(view: View = Post, name: str = Form(""), public_key: str = Form("")) -> Response:
    back = "/project/key-pairs/"
    if not name.strip() or not public_key.strip():
        view.session.flash("error", "A key pair needs a name and a public key.")
        return view.web.redirect(view.request, back)
    return view.attempt(
        back,
        f"Key pair {name.strip()} imported.",
        lambda: view.clients.compute.import_keypair(name.strip(), public_key.strip()),
    )


@router.post("/key-pairs/{name}/delete")
def delete_key(name: str, view: View = Post) -> Response:
    return view.attempt("/project/key-pairs/", "Key pair deleted.", lambda: view.clients.compute.delete_keypair(name))
