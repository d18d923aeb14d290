"""The dashboard's forms driven in the browser as a user would, each result checked through the service APIs.

Networks and subnets, routers (gateway, interfaces), security groups and rules, floating IPs (allocate,
associate, disassociate, release), key pair import, the admin's projects, users and roles, and a
catalog without networking. Same real cloud as test_dashboard.py (fake hypervisor, in-memory network
back end); every check reads the service's own API, never the dashboard's page alone.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from playwright.sync_api import expect

from tests.browser.cloud import project_token
from tests.browser.conftest import login
from tests.browser.test_dashboard import choose, shot
from tests.conftest import CloudHandle

pytestmark = pytest.mark.timeout(300)
DEADLINE = 60.0


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = DEADLINE) -> Any:
    """Poll ``predicate`` until it returns something truthy, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


class Apis:
    """One user's token on the real cloud's APIs: ``apis.network.get(...)`` and so on."""

    def __init__(self, dash: CloudHandle, user: str, project: str):
        headers = {"X-Auth-Token": project_token(dash, user, project)}
        self.network = httpx.Client(base_url=dash.urls["network"].rstrip("/") + "/v2.0", headers=headers, timeout=30)
        self.compute = httpx.Client(base_url=dash.urls["compute"], headers=headers, timeout=30)
        self.identity = httpx.Client(base_url=dash.auth_url, headers=headers, timeout=30)
        self.image = httpx.Client(base_url=dash.urls["image"], headers=headers, timeout=30)

    def close(self) -> None:
        for client in (self.network, self.compute, self.identity, self.image):
            client.close()

    def one(self, client: httpx.Client, path: str, key: str, **params: str) -> dict[str, Any] | None:
        """The single item the filtered list holds, or None when it is empty."""
        resp = client.get(path, params=params)
        assert resp.status_code == 200, resp.text
        items = resp.json()[key]
        assert len(items) <= 1, items
        return items[0] if items else None


@pytest.fixture
def demo_api(dash: CloudHandle) -> Iterator[Apis]:
    apis = Apis(dash, "demo", "demo")
    try:
        yield apis
    finally:
        apis.close()


@pytest.fixture
def admin_api(dash: CloudHandle) -> Iterator[Apis]:
    apis = Apis(dash, "admin", "admin")
    try:
        yield apis
    finally:
        apis.close()


def flash(page: Any, level: str) -> Any:
    return page.locator(f".flash.{level}")


# 1. networks and subnets


def test_create_a_network_with_a_subnet(page: Any, dash: CloudHandle, shots: Path, demo_api: Apis) -> None:
    login(page, dash.urls["dashboard"], "demo", dash.demo_password)
    page.click("nav >> text=Networks")
    name = unique("blue")
    form = page.locator("form[action='/project/networks/create']")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=subnet_name]").fill(f"{name}-sub")
    form.locator("input[name=cidr]").fill("10.77.0.0/24")
    form.locator("button[type=submit]").click()
    expect(flash(page, "success")).to_contain_text(f"Network {name} created.")
    row = page.locator("#networks tr", has_text=name)
    expect(row).to_contain_text("10.77.0.0/24")
    shot(page, shots, "20-network-created")

    net = demo_api.one(demo_api.network, "/networks", "networks", name=name)
    assert net is not None and net["project_id"] == project_id(demo_api, "demo")
    subnet = demo_api.one(demo_api.network, "/subnets", "subnets", network_id=net["id"])
    assert subnet is not None
    assert (subnet["name"], subnet["cidr"], subnet["ip_version"]) == (f"{name}-sub", "10.77.0.0/24", 4)
    assert subnet["gateway_ip"] == "10.77.0.1" and subnet["enable_dhcp"] is True

    # DHCP off and an explicit gateway reach the API as typed.
    other = unique("green")
    form.locator("input[name=name]").fill(other)
    form.locator("input[name=cidr]").fill("10.78.0.0/24")
    form.locator("input[name=gateway_ip]").fill("10.78.0.254")
    form.locator("input[name=enable_dhcp]").uncheck()
    form.locator("button[type=submit]").click()
    expect(flash(page, "success")).to_contain_text(f"Network {other} created.")
    net2 = demo_api.one(demo_api.network, "/networks", "networks", name=other)
    assert net2 is not None
    subnet2 = demo_api.one(demo_api.network, "/subnets", "subnets", network_id=net2["id"])
    assert subnet2 is not None and subnet2["gateway_ip"] == "10.78.0.254" and subnet2["enable_dhcp"] is False

    # A bad CIDR is the API's message on the page, and no half-made network is left behind.
    bad = unique("bad")
    form.locator("input[name=name]").fill(bad)
    form.locator("input[name=cidr]").fill("10.79.0.0/33")
    form.locator("button[type=submit]").click()
    expect(flash(page, "error")).to_contain_text("Networking: ")
    assert demo_api.one(demo_api.network, "/networks", "networks", name=bad) is None

    # Delete both from their rows.
    for gone in (name, other):
        page.locator("#networks tr", has_text=gone).locator("button:has-text('Delete')").click()
        expect(flash(page, "success")).to_contain_text("Network deleted.")
        expect(page.locator("#networks tr", has_text=gone)).to_have_count(0)
        assert demo_api.one(demo_api.network, "/networks", "networks", name=gone) is None


def project_id(apis: Apis, name: str) -> str:
    resp = apis.identity.get("/auth/projects")
    assert resp.status_code == 200, resp.text
    return next(p["id"] for p in resp.json()["projects"] if p["name"] == name)


# 2. routers: gateway, interfaces


@pytest.fixture
def demo_subnet(demo_api: Apis) -> Iterator[dict[str, Any]]:
    """A network with one subnet in the demo project, made through the API and removed afterwards."""
    net = demo_api.network.post("/networks", json={"network": {"name": unique("rnet")}})
    assert net.status_code == 201, net.text
    network_id = net.json()["network"]["id"]
    body = {"subnet": {"network_id": network_id, "cidr": "10.88.0.0/24", "ip_version": 4, "name": "rsub"}}
    subnet = demo_api.network.post("/subnets", json=body)
    assert subnet.status_code == 201, subnet.text
    try:
        yield subnet.json()["subnet"]
    finally:
        demo_api.network.delete(f"/networks/{network_id}")


def router_interfaces(apis: Apis, router_id: str) -> list[dict[str, Any]]:
    resp = apis.network.get("/ports", params={"device_id": router_id, "device_owner": "network:router_interface"})
    assert resp.status_code == 200, resp.text
    return resp.json()["ports"]  # type: ignore[no-any-return]


def test_router_gateway_and_interfaces(
    page: Any, dash: CloudHandle, shots: Path, demo_api: Apis, demo_subnet: dict[str, Any]
) -> None:
    public = demo_api.one(demo_api.network, "/networks", "networks", name="public")
    assert public is not None
    login(page, dash.urls["dashboard"], "demo", dash.demo_password)
    page.click("nav >> text=Routers")
    name = unique("edge")
    form = page.locator("form[action='/project/routers/create']")
    form.locator("input[name=name]").fill(name)
    form.locator("button[type=submit]").click()
    expect(flash(page, "success")).to_contain_text(f"Router {name} created.")
    router = demo_api.one(demo_api.network, "/routers", "routers", name=name)
    assert router is not None and not router["external_gateway_info"]
    try:
        page.locator("#routers a", has_text=name).click()
        page.wait_for_url(re.compile(rf".*/project/routers/{router['id']}$"))

        # Set the gateway.
        page.locator("select[name=external_network_id]").select_option(label="public")
        page.click("button:has-text('Set gateway')")
        expect(flash(page, "success")).to_contain_text("Gateway set.")
        gateway = demo_api.one(demo_api.network, "/routers", "routers", id=router["id"])["external_gateway_info"]  # type: ignore[index]
        assert gateway and gateway["network_id"] == public["id"] and gateway["external_fixed_ips"]
        expect(page.locator("section", has_text="Gateway")).to_contain_text(
            gateway["external_fixed_ips"][0]["ip_address"]
        )

        # Add an interface on the demo subnet: the choices are internal subnets only (public's is the gateway's).
        offered = page.locator("select[name=subnet_id] option").all_inner_texts()
        assert any("rsub (10.88.0.0/24)" in o for o in offered), offered
        assert not any("public" in o for o in offered), offered
        page.locator("select[name=subnet_id]").select_option(demo_subnet["id"])
        page.click("button:has-text('Add interface')")
        expect(flash(page, "success")).to_contain_text("Interface added.")
        ports = router_interfaces(demo_api, router["id"])
        assert [ip["subnet_id"] for p in ports for ip in p["fixed_ips"]] == [demo_subnet["id"]]
        assert ports[0]["fixed_ips"][0]["ip_address"] == "10.88.0.1"  # the subnet's gateway address
        rows = page.locator("section", has_text="Interfaces").locator("tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("10.88.0.1")
        shot(page, shots, "21-router")

        # The topology shows the router between public and the new network, its lines under the bars.
        page.click("nav >> text=Topology")
        node = page.locator(f"#topology g.node.router[data-id='{router['id']}']")
        expect(node.locator("text.ip")).to_have_text(["10.88.0.1", "gateway"])
        lines_first = page.evaluate(
            """() => {
                const svg = document.getElementById('topology');
                const lines = [...svg.querySelectorAll('line')];
                const bars = [...svg.querySelectorAll('g.network')];
                return lines.length > 0 && lines.every(l => bars.every(
                    b => l.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING));
            }"""
        )
        assert lines_first, "a line is painted over a network bar's label"
        shot(page, shots, "21b-topology-router")
        page.goto(f"{dash.urls['dashboard']}/project/routers/{router['id']}")

        # An attached subnet is no longer offered; a stale form sending it anyway gets the API's words.
        expect(page.locator(f"select[name=subnet_id] option[value='{demo_subnet['id']}']")).to_have_count(0)
        csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
        form = {"subnet_id": demo_subnet["id"], "csrf_token": csrf or ""}
        stale = page.request.post(f"{dash.urls['dashboard']}/project/routers/{router['id']}/interfaces", form=form)
        assert stale.status == 200 and "Networking: " in stale.text()
        assert len(router_interfaces(demo_api, router["id"])) == 1
        page.reload()

        # Remove the interface, clear the gateway.
        rows.first.locator("button:has-text('Remove')").click()
        expect(flash(page, "success")).to_contain_text("Interface removed.")
        wait_for(lambda: router_interfaces(demo_api, router["id"]) == [], "the interface to go")
        expect(page.locator("section", has_text="Interfaces")).to_contain_text("No interfaces.")
        page.locator("select[name=external_network_id]").select_option("")
        page.click("button:has-text('Set gateway')")
        expect(flash(page, "success")).to_contain_text("Gateway cleared.")
        assert not demo_api.one(demo_api.network, "/routers", "routers", id=router["id"])["external_gateway_info"]  # type: ignore[index]

        page.click("button:has-text('Delete router')")
        page.wait_for_url(re.compile(r".*/project/routers/$"))
        expect(flash(page, "success")).to_contain_text("Router deleted.")
        assert demo_api.one(demo_api.network, "/routers", "routers", id=router["id"]) is None
    finally:
        for port in router_interfaces(demo_api, router["id"]):
            for ip in port["fixed_ips"]:
                body = {"subnet_id": ip["subnet_id"]}
                demo_api.network.put(f"/routers/{router['id']}/remove_router_interface", json=body)
        demo_api.network.delete(f"/routers/{router['id']}")


# 3. security groups and rules


def group_rules(apis: Apis, sg_id: str) -> list[dict[str, Any]]:
    resp = apis.network.get(f"/security-groups/{sg_id}")
    assert resp.status_code == 200, resp.text
    return resp.json()["security_group"]["security_group_rules"]  # type: ignore[no-any-return]


def test_security_group_and_rules(page: Any, dash: CloudHandle, shots: Path, demo_api: Apis) -> None:
    login(page, dash.urls["dashboard"], "demo", dash.demo_password)
    page.click("nav >> text=Security groups")
    name = unique("web")
    form = page.locator("form[action='/project/security-groups/create']")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=description]").fill("web servers")
    form.locator("button[type=submit]").click()
    expect(flash(page, "success")).to_contain_text(f"Security group {name} created.")
    group = demo_api.one(demo_api.network, "/security-groups", "security_groups", name=name)
    assert group is not None and group["description"] == "web servers"
    try:
        before = {r["id"] for r in group_rules(demo_api, group["id"])}
        page.locator("#security-groups a", has_text=name).click()
        page.wait_for_url(re.compile(rf".*/project/security-groups/{group['id']}$"))

        rule_form = page.locator("form[action$='/rules']")
        rule_form.locator("select[name=protocol]").select_option("tcp")
        rule_form.locator("input[name=port_min]").fill("8080")
        rule_form.locator("input[name=port_max]").fill("8090")
        rule_form.locator("input[name=remote_ip_prefix]").fill("10.0.0.0/8")
        rule_form.locator("button[type=submit]").click()
        expect(flash(page, "success")).to_contain_text("Rule added.")
        added = [r for r in group_rules(demo_api, group["id"]) if r["id"] not in before]
        assert len(added) == 1
        rule = added[0]
        assert (rule["direction"], rule["ethertype"], rule["protocol"]) == ("ingress", "IPv4", "tcp")
        assert (rule["port_range_min"], rule["port_range_max"], rule["remote_ip_prefix"]) == (8080, 8090, "10.0.0.0/8")
        row = page.locator(f"#rules tr[data-id='{rule['id']}']")
        expect(row).to_contain_text("8080-8090")
        expect(row).to_contain_text("10.0.0.0/8")

        # One port, ICMP with no ports, and input the API refuses.
        rule_form.locator("input[name=port_min]").fill("22")
        rule_form.locator("input[name=port_max]").fill("")
        rule_form.locator("input[name=remote_ip_prefix]").fill("")
        rule_form.locator("button[type=submit]").click()
        expect(flash(page, "success")).to_contain_text("Rule added.")
        rule_form.locator("select[name=protocol]").select_option("icmp")
        rule_form.locator("input[name=port_min]").fill("")
        rule_form.locator("button[type=submit]").click()
        expect(flash(page, "success")).to_contain_text("Rule added.")
        rules = [r for r in group_rules(demo_api, group["id"]) if r["id"] not in before]
        assert sorted((r["protocol"], r["port_range_min"], r["port_range_max"]) for r in rules) == [
            ("icmp", None, None),
            ("tcp", 22, 22),
            ("tcp", 8080, 8090),
        ]
        shot(page, shots, "22-security-group-rules")

        rule_form.locator("select[name=protocol]").select_option("tcp")
        rule_form.locator("input[name=port_min]").fill("ssh")
        rule_form.locator("button[type=submit]").click()
        expect(flash(page, "error")).to_contain_text("Ports must be numbers.")
        rule_form.locator("input[name=port_min]").fill("90")
        rule_form.locator("input[name=port_max]").fill("80")
        rule_form.locator("button[type=submit]").click()
        expect(flash(page, "error")).to_contain_text("Networking: ")
        assert len(group_rules(demo_api, group["id"])) == len(before) + 3

        page.locator(f"#rules tr[data-id='{rule['id']}']").locator("button:has-text('Delete')").click()
        expect(flash(page, "success")).to_contain_text("Rule deleted.")
        assert rule["id"] not in {r["id"] for r in group_rules(demo_api, group["id"])}
        expect(page.locator(f"#rules tr[data-id='{rule['id']}']")).to_have_count(0)

        page.click("button:has-text('Delete group')")
        page.wait_for_url(re.compile(r".*/project/security-groups/$"))
        expect(flash(page, "success")).to_contain_text("Security group deleted.")
        assert demo_api.network.get(f"/security-groups/{group['id']}").status_code == 404
    finally:
        demo_api.network.delete(f"/security-groups/{group['id']}")


# 4. floating IPs


@pytest.fixture
def demo_server(demo_api: Apis) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """An ACTIVE demo instance on ``private`` and its port, made through the API and deleted afterwards."""
    image = demo_api.image.get("/v2/images", params={"name": "testvm"}).json()["images"][0]
    private = demo_api.one(demo_api.network, "/networks", "networks", name="private")
    assert private is not None
    body = {"server": {"name": unique("fipvm"), "imageRef": image["id"], "flavorRef": "1"}}
    body["server"]["networks"] = [{"uuid": private["id"]}]
    resp = demo_api.compute.post("/servers", json=body)
    assert resp.status_code == 202, resp.text
    server_id = resp.json()["server"]["id"]
    try:
        server = wait_for(
            lambda: (s := demo_api.compute.get(f"/servers/{server_id}").json()["server"])["status"] == "ACTIVE" and s,
            "the instance to be ACTIVE",
        )
        port = wait_for(
            lambda: demo_api.network.get("/ports", params={"device_id": server_id}).json()["ports"],
            "the instance's port",
        )[0]
        yield server, port
    finally:
        demo_api.compute.delete(f"/servers/{server_id}")
        wait_for(lambda: demo_api.compute.get(f"/servers/{server_id}").status_code == 404, "the instance to go")


def floating_ip(apis: Apis, fip_id: str) -> dict[str, Any] | None:
    resp = apis.network.get(f"/floatingips/{fip_id}")
    if resp.status_code == 404:
        return None
    assert resp.status_code == 200, resp.text
    return resp.json()["floatingip"]  # type: ignore[no-any-return]


def test_floating_ip_allocate_associate_disassociate_release(
    page: Any, dash: CloudHandle, shots: Path, demo_api: Apis, demo_server: tuple[dict[str, Any], dict[str, Any]]
) -> None:
    server, port = demo_server
    public = demo_api.one(demo_api.network, "/networks", "networks", name="public")
    assert public is not None
    before = {f["id"] for f in demo_api.network.get("/floatingips").json()["floatingips"]}
    login(page, dash.urls["dashboard"], "demo", dash.demo_password)
    page.click("nav >> text=Floating IPs")
    page.locator("select[name=network_id]").select_option(label="public")
    page.click("button:has-text('Allocate IP to project')")
    expect(flash(page, "success")).to_contain_text("Floating IP allocated.")
    new = [f for f in demo_api.network.get("/floatingips").json()["floatingips"] if f["id"] not in before]
    assert len(new) == 1
    fip = new[0]
    try:
        assert fip["floating_network_id"] == public["id"] and fip["port_id"] is None
        row = page.locator(f"#floating-ips tr[data-id='{fip['id']}']")
        expect(row).to_contain_text(fip["floating_ip_address"])

        fixed = port["fixed_ips"][0]["ip_address"]
        row.locator("select[name=port_id]").select_option(label=f"{server['name']}: {fixed}")
        row.locator("button:has-text('Apply')").click()
        expect(flash(page, "success")).to_contain_text("Floating IP associated.")
        now = floating_ip(demo_api, fip["id"])
        assert now is not None and now["port_id"] == port["id"] and now["fixed_ip_address"] == fixed
        row = page.locator(f"#floating-ips tr[data-id='{fip['id']}']")
        expect(row.locator("td").nth(1)).to_contain_text(server["name"])
        shot(page, shots, "23-floating-ip-associated")

        row.locator("select[name=port_id]").select_option("")
        row.locator("button:has-text('Apply')").click()
        expect(flash(page, "success")).to_contain_text("Floating IP disassociated.")
        now = floating_ip(demo_api, fip["id"])
        assert now is not None and now["port_id"] is None

        page.locator(f"#floating-ips tr[data-id='{fip['id']}']").locator("button:has-text('Release')").click()
        expect(flash(page, "success")).to_contain_text("Floating IP released.")
        assert floating_ip(demo_api, fip["id"]) is None
        expect(page.locator(f"#floating-ips tr[data-id='{fip['id']}']")).to_have_count(0)
    finally:
        demo_api.network.delete(f"/floatingips/{fip['id']}")


# 5. key pair import


def md5_fingerprint(public_key: str) -> str:
    digest = hashlib.md5(base64.b64decode(public_key.split()[1]), usedforsecurity=False).hexdigest()
    return ":".join(digest[i : i + 2] for i in range(0, 32, 2))


def test_import_a_key_pair(page: Any, dash: CloudHandle, shots: Path, demo_api: Apis) -> None:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    public = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    name = f"my laptop {uuid.uuid4().hex[:4]}"  # a space: the delete URL must encode it
    login(page, dash.urls["dashboard"], "demo", dash.demo_password)
    page.click("nav >> text=Key pairs")
    form = page.locator("form[action='/project/key-pairs/import']")
    form.locator("input[name=name]").fill(name)
    form.locator("textarea[name=public_key]").fill(public + " me@laptop\n")
    form.locator("button[type=submit]").click()
    expect(flash(page, "success")).to_contain_text(f"Key pair {name} imported.")
    try:
        resp = demo_api.compute.get(f"/os-keypairs/{name}")
        assert resp.status_code == 200, resp.text
        stored = resp.json()["keypair"]
        assert stored["public_key"].split()[:2] == public.split()[:2]
        assert stored["fingerprint"] == md5_fingerprint(public)
        row = page.locator("#key-pairs tr", has_text=name)
        expect(row).to_contain_text(stored["fingerprint"])
        expect(row).to_contain_text("ssh")
        shot(page, shots, "24-key-pair-imported")

        # A key that is not one: compute's 400 message on the page (it used to be a 500).
        form.locator("input[name=name]").fill("not-a-key")
        form.locator("textarea[name=public_key]").fill("not a key")
        form.locator("button[type=submit]").click()
        expect(flash(page, "error")).to_contain_text("Compute: Keypair data is invalid")
        assert demo_api.compute.get("/os-keypairs/not-a-key").status_code == 404

        page.locator("#key-pairs tr", has_text=name).locator("button:has-text('Delete')").click()
        expect(flash(page, "success")).to_contain_text("Key pair deleted.")
        assert demo_api.compute.get(f"/os-keypairs/{name}").status_code == 404
    finally:
        demo_api.compute.delete(f"/os-keypairs/{name}")


# 6. admin: projects, users, roles


def role_names(apis: Apis, user_id: str, project_id: str) -> set[str]:
    params = {"user.id": user_id, "scope.project.id": project_id, "include_names": "true"}
    resp = apis.identity.get("/role_assignments", params=params)
    assert resp.status_code == 200, resp.text
    return {a["role"]["name"] for a in resp.json()["role_assignments"]}


def test_admin_creates_a_project_and_a_user_and_assigns_a_role(
    page: Any, browser: Any, dash: CloudHandle, shots: Path, admin_api: Apis
) -> None:
    base = dash.urls["dashboard"]
    project, user, password = unique("proj"), unique("user"), f"pw-{uuid.uuid4().hex}"
    made: dict[str, str] = {}
    login(page, base, "admin", dash.admin_password)
    try:
        page.click("nav >> text=Projects")
        form = page.locator("form[action='/admin/projects/create']")
        form.locator("input[name=name]").fill(project)
        form.locator("input[name=description]").fill("made in the browser")
        form.locator("button[type=submit]").click()
        expect(flash(page, "success")).to_contain_text(f"Project {project} created.")
        found = admin_api.one(admin_api.identity, "/projects", "projects", name=project)
        assert found is not None and found["description"] == "made in the browser" and found["enabled"]
        made["project"] = found["id"]

        page.click("nav >> text=Users")
        form = page.locator("form[action='/admin/users/create']")
        form.locator("input[name=name]").fill(user)
        form.locator("input[name=password]").fill(password)
        form.locator("input[name=email]").fill("someone@example.org")
        form.locator("select[name=project_id]").select_option(label=project)
        form.locator("select[name=role_id]").select_option(label="member")
        form.locator("button[type=submit]").click()
        expect(flash(page, "success")).to_contain_text(f"User {user} created.")
        expect(page.locator("#users tr", has_text=user)).to_contain_text("someone@example.org")
        shot(page, shots, "25-admin-user-created")
        created = admin_api.one(admin_api.identity, "/users", "users", name=user)
        assert created is not None
        made["user"] = created["id"]
        assert created["email"] == "someone@example.org" and created["default_project_id"] == found["id"]
        assert role_names(admin_api, created["id"], found["id"]) == {"member"}

        # Assign a second role on another project from the Projects page.
        demo = admin_api.one(admin_api.identity, "/projects", "projects", name="demo")
        assert demo is not None
        page.click("nav >> text=Projects")
        form = page.locator("form[action='/admin/projects/grant']")
        form.locator("select[name=user_id]").select_option(label=user)
        form.locator("select[name=project_id]").select_option(label="demo")
        form.locator("select[name=role_id]").select_option(label="reader")
        form.locator("button[type=submit]").click()
        expect(flash(page, "success")).to_contain_text("Role assigned.")
        assert role_names(admin_api, created["id"], demo["id"]) == {"reader"}
        expect(page.locator(f"#projects tr[data-id='{demo['id']}']")).to_contain_text(f"{user} (reader)")
        expect(page.locator(f"#projects tr[data-id='{found['id']}']")).to_contain_text(f"{user} (member)")
        shot(page, shots, "26-admin-projects-roles")

        # The admin gives themselves a role on the new project: the switcher offers it at once.
        admin_user = admin_api.one(admin_api.identity, "/users", "users", name="admin")
        assert admin_user is not None
        expect(page.locator("#project-switcher option", has_text=project)).to_have_count(0)
        form.locator("select[name=user_id]").select_option(label="admin")
        form.locator("select[name=project_id]").select_option(label=project)
        form.locator("select[name=role_id]").select_option(label="member")
        form.locator("button[type=submit]").click()
        expect(flash(page, "success")).to_contain_text("Role assigned.")
        assert role_names(admin_api, admin_user["id"], found["id"]) == {"member"}
        page.locator("#project-switcher").select_option(label=project)
        expect(flash(page, "success")).to_contain_text(f"Now working in project {project}.")
        page.locator("#project-switcher").select_option(label="admin")
        expect(flash(page, "success")).to_contain_text("Now working in project admin.")

        # The new user logs in with that password and works in both projects.
        context = browser.new_context()
        try:
            theirs = context.new_page()
            login(theirs, base, user, password)
            names = theirs.locator("#project-switcher option").all_inner_texts()
            assert sorted(names) == sorted([project, "demo"])
            expect(theirs.locator("#project-switcher option:checked")).to_have_text(project)
        finally:
            context.close()

        # A user name that is taken is the identity API's message, not a crash.
        page.click("nav >> text=Users")
        form = page.locator("form[action='/admin/users/create']")
        form.locator("input[name=name]").fill(user)
        form.locator("input[name=password]").fill(password)
        form.locator("button[type=submit]").click()
        expect(flash(page, "error")).to_contain_text("Identity: ")
    finally:
        if "user" in made:
            admin_api.identity.delete(f"/users/{made['user']}")
        if "project" in made:
            admin_api.identity.delete(f"/projects/{made['project']}")


# 7. a catalog without networking


@pytest.fixture
def no_networking(admin_api: Apis) -> Iterator[None]:
    """The network service disabled in the catalog (tokens issued meanwhile have no network endpoint)."""
    services = admin_api.identity.get("/services", params={"type": "network"}).json()["services"]
    assert services, "the cloud has no network service to hide"
    try:
        for service in services:
            resp = admin_api.identity.patch(f"/services/{service['id']}", json={"service": {"enabled": False}})
            assert resp.status_code == 200, resp.text
        yield
    finally:
        for service in services:
            admin_api.identity.patch(f"/services/{service['id']}", json={"service": {"enabled": True}})


NETWORK_PAGES = ("/project/networks/", "/project/topology/", "/project/routers/", "/project/floating-ips/")
NETWORK_PAGES += ("/project/security-groups/",)


def test_without_networking_the_dashboard_says_so(
    page: Any, dash: CloudHandle, shots: Path, demo_api: Apis, no_networking: None
) -> None:
    base = dash.urls["dashboard"]
    login(page, base, "demo", dash.demo_password)
    expect(page.locator("main")).to_contain_text("Networking is not available in this cloud")
    expect(page.locator("svg[role=img]").first).to_be_visible()  # compute's quota donuts still drawn
    nav = page.locator("nav.side")
    for link in ("Networks", "Topology", "Routers", "Floating IPs", "Security groups"):
        expect(nav.locator("a", has_text=link)).to_have_count(0)
    shot(page, shots, "27-no-networking-overview")

    for path in NETWORK_PAGES:
        resp = page.goto(base + path)
        assert resp is not None and resp.status == 503, path
        expect(page.locator(".error-page")).to_contain_text("Networking is not available in this cloud.")
        expect(page.locator("nav.side")).to_be_visible()
    shot(page, shots, "28-no-networking-page")

    # A form posted to a networking page (an old tab, say) is the same message, not a crash.
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    resp = page.request.post(base + "/project/networks/create", form={"name": "x", "csrf_token": csrf})
    assert resp.status in (200, 503) and "Networking is not available" in resp.text()

    # Launching still works: the instance gets no network, and its page says why.
    name = unique("nonet")
    page.goto(base + "/project/instances/")
    page.click("text=Launch instance")
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_contain_text("Networking is not available in this cloud")
    expect(dialog.locator("select[name=network_id]")).to_have_count(0)
    dialog.locator("input[name=name]").fill(name)
    choose(dialog.locator("select[name=image_id]"), "testvm")
    choose(dialog.locator("select[name=flavor_id]"), "m1.tiny")
    dialog.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/project/instances/$"))
    row = page.locator("#instance-rows tr", has_text=name)
    try:
        expect(row.locator(".status")).to_have_text("ACTIVE", timeout=60_000)
        server = next(s for s in demo_api.compute.get("/servers/detail").json()["servers"] if s["name"] == name)
        assert server["addresses"] == {}
        row.locator("a", has_text=name).click()
        expect(page.locator("section", has_text="Floating IP")).to_contain_text("Networking is not available")
        shot(page, shots, "29-no-networking-instance")
    finally:
        for s in demo_api.compute.get("/servers", params={"name": name}).json()["servers"]:
            demo_api.compute.delete(f"/servers/{s['id']}")
