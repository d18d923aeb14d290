"""The dashboard in a real browser (Debian's chromium, headless, driven by Playwright) against a real cloud.

The cloud runs the fake hypervisor and the in-memory network back end (as the client tests do), so
instances reach ACTIVE in seconds; everything the browser does goes through the real APIs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.cloud import project_token
from tests.browser.conftest import login
from tests.conftest import CloudHandle

pytestmark = pytest.mark.timeout(300)


def choose(select: Any, prefix: str) -> None:
    """Select the first option whose text starts with ``prefix``."""
    for option in select.locator("option").all():
        if option.inner_text().startswith(prefix):
            select.select_option(option.get_attribute("value"))
            return
    raise AssertionError(f"no option starting with {prefix!r}")


def shot(page: Any, shots: Path, name: str) -> None:
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)


def test_demo_launches_watches_and_deletes_an_instance(page: Any, dash: CloudHandle, shots: Path) -> None:
    base = dash.urls["dashboard"]
    login(page, base, "demo", dash.demo_password)
    expect(page.locator("svg[role=img]").first).to_be_visible()  # the quota donuts
    shot(page, shots, "01-overview")

    page.click("text=Instances")
    page.click("text=Launch instance")
    dialog = page.locator("dialog#dialog")
    expect(dialog).to_be_visible()
    dialog.locator("input[name=name]").fill("web1")
    choose(dialog.locator("select[name=image_id]"), "testvm")
    choose(dialog.locator("select[name=flavor_id]"), "m1.tiny")
    dialog.locator("select[name=network_id]").select_option(label="private")
    dialog.locator("textarea[name=user_data]").fill("#!/bin/sh\necho hello\n")
    shot(page, shots, "02-launch-dialog")
    dialog.locator("button[type=submit]").click()
    page.wait_for_url(re.compile(r".*/project/instances/$"))

    # From here on the page is never reloaded: the row turns ACTIVE through htmx polling.
    loads: list[str] = []
    page.on("load", lambda: loads.append(page.url))
    row = page.locator("#instance-rows tr", has_text="web1")
    expect(row.locator(".status")).to_have_text("ACTIVE", timeout=60_000)
    assert loads == [], f"the page was reloaded: {loads}"
    shot(page, shots, "03-instances")

    row.locator("a", has_text="web1").click()
    expect(page.locator("#instance-status")).to_contain_text("ACTIVE")
    page.click("text=Show console log")
    expect(page.locator("#console-output")).not_to_have_text("(the console is empty)")
    expect(page.locator("#console-output")).not_to_be_empty()

    page.locator("select[name=floating_ip_id]").select_option("")  # allocate a new one from "public"
    page.click("text=Associate floating IP")
    address = page.locator(".fip-address")
    expect(address).to_have_count(1)
    fip = address.inner_text().strip()
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", fip)
    shot(page, shots, "04-instance")

    page.click("nav >> text=Topology")
    node = page.locator("#topology g.node.instance", has_text="web1")
    expect(node).to_contain_text(fip)
    expect(page.locator("#topology g.network", has_text="private")).to_have_count(1)
    expect(page.locator("#topology g.node.router")).not_to_have_count(0)
    shot(page, shots, "05-topology")

    for name, link in (("06-networks", "Networks"), ("07-routers", "Routers"), ("08-floating-ips", "Floating IPs")):
        page.click(f"nav >> text={link}")
        shot(page, shots, name)
    page.click("nav >> text=Security groups")
    page.click("text=default")
    shot(page, shots, "09-security-group")
    page.click("nav >> text=Key pairs")
    shot(page, shots, "10-key-pairs")

    page.click("nav >> text=Instances")
    page.locator("#instance-rows tr", has_text="web1").locator("a").click()
    page.click("button:has-text('Delete')")  # the confirm() is accepted by the fixture
    page.wait_for_url(re.compile(r".*/project/instances/$"))
    expect(page.locator("#instance-rows tr", has_text="web1")).to_have_count(0, timeout=60_000)


def test_upload_an_image_with_a_progress_bar(page: Any, dash: CloudHandle, shots: Path, tmp_path: Path) -> None:
    data = tmp_path / "small.raw"
    data.write_bytes(b"\0" * (3 * 1024 * 1024))
    login(page, dash.urls["dashboard"], "demo", dash.demo_password)
    page.click("nav >> text=Images")
    form = page.locator("form[data-upload]")
    form.locator("input[name=name]").fill("small-upload")
    form.locator("select[name=disk_format]").select_option("raw")
    form.locator("input[type=file]").set_input_files(str(data))
    form.locator("button[type=submit]").click()
    expect(form.locator(".progress")).to_be_visible()
    page.wait_for_url(re.compile(r".*/project/images/$"))
    row = page.locator("#image-rows tr", has_text="small-upload")
    expect(row.locator(".status")).to_have_text("active", timeout=60_000)
    expect(page.locator(".flash.success")).to_contain_text("small-upload")
    shot(page, shots, "11-images")

    row.locator("button:has-text('Delete')").click()
    expect(page.locator("#image-rows tr", has_text="small-upload")).to_have_count(0)


def test_admin_sees_hypervisors_and_every_projects_instances(page: Any, dash: CloudHandle, shots: Path) -> None:
    token = project_token(dash, "demo", "demo")
    compute = dash.urls["compute"]
    with httpx.Client(base_url=compute, headers={"X-Auth-Token": token}, timeout=30) as http:
        flavor = http.get("/flavors").json()["flavors"][0]["id"]
        images = httpx.get(f"{dash.urls['image']}/v2/images?name=testvm", headers={"X-Auth-Token": token}).json()
        body = {"server": {"name": "demo-vm", "imageRef": images["images"][0]["id"], "flavorRef": flavor}}
        body["server"]["networks"] = "none"
        resp = http.post("/servers", json=body)
        assert resp.status_code == 202, resp.text
        server_id = resp.json()["server"]["id"]
    try:
        login(page, dash.urls["dashboard"], "admin", dash.admin_password)
        page.click("nav >> text=Hypervisors")
        expect(page.locator("#hypervisors tbody tr")).to_have_count(3)  # the cloud's 3 fake hosts
        expect(page.locator("#hypervisors svg").first).to_be_visible()
        shot(page, shots, "12-admin-hypervisors")
        page.click("nav >> text=All instances")
        row = page.locator("#all-instance-rows tr", has_text="demo-vm")
        expect(row).to_contain_text("demo")
        shot(page, shots, "13-admin-instances")
        for name, link in (
            ("14-admin-projects", "Projects"),
            ("15-admin-users", "Users"),
            ("16-admin-flavors", "Flavors"),
        ):
            page.click(f"nav >> text={link}")
            shot(page, shots, name)
        expect(page.locator("#flavors")).to_contain_text("m1.tiny")
    finally:
        httpx.delete(f"{compute}/servers/{server_id}", headers={"X-Auth-Token": token}, timeout=30)


ADMIN_PAGES = (
    "/admin/",
    "/admin/hypervisors/",
    "/admin/instances/",
    "/admin/projects/",
    "/admin/users/",
    "/admin/flavors/",
)


def test_demo_gets_the_403_page_on_every_admin_page(page: Any, dash: CloudHandle, shots: Path) -> None:
    base = dash.urls["dashboard"]
    login(page, base, "demo", dash.demo_password)
    expect(page.locator("nav.side")).not_to_contain_text("Hypervisors")
    for path in ADMIN_PAGES:
        resp = page.goto(base + path)
        assert resp is not None and resp.status == 403, path
        expect(page.locator("h1")).to_contain_text("403")
        expect(page.locator("nav.side")).to_be_visible()  # a page of the dashboard, not a crash
    shot(page, shots, "17-forbidden")


def test_project_switcher_and_logout(page: Any, dash: CloudHandle, shots: Path) -> None:
    base = dash.urls["dashboard"]
    login(page, base, "admin", dash.admin_password)
    options = page.locator("#project-switcher option")
    names = options.all_inner_texts()
    assert "admin" in names and "demo" not in names  # admin has no role on demo
    page.click("text=Log out")
    page.wait_for_url(re.compile(r".*/auth/login$"))
    expect(page.locator(".flash.success")).to_contain_text("logged out")
    resp = page.goto(base + "/project/")
    assert resp is not None and page.url.endswith("/auth/login")
    shot(page, shots, "00-login")
