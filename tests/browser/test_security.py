"""The dashboard's security promises, checked over plain HTTP against the same real cloud as the browser tests."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.browser.cloud import project_token
from tests.conftest import CloudHandle

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def logged_in(dash: CloudHandle, user: str) -> tuple[httpx.Client, str]:
    """A client holding a session cookie of ``user``, and the session's CSRF token."""
    password = dash.admin_password if user == "admin" else dash.demo_password
    client = httpx.Client(base_url=dash.urls["dashboard"], timeout=30)
    csrf = CSRF.search(client.get("/auth/login").text).group(1)  # type: ignore[union-attr]
    resp = client.post("/auth/login", data={"username": user, "password": password, "csrf_token": csrf})
    assert resp.status_code == 303 and resp.headers["location"] == "/project/", resp.text
    page = client.get("/project/key-pairs/")
    return client, CSRF.search(page.text).group(1)  # type: ignore[union-attr]


@pytest.fixture
def demo(dash: CloudHandle) -> Iterator[tuple[httpx.Client, str]]:
    client, csrf = logged_in(dash, "demo")
    try:
        yield client, csrf
    finally:
        client.post("/auth/logout", data={"csrf_token": csrf})
        client.close()


KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGvNq0m7L5CJ2dnFe6lBq1NP0l3ndmAkZH1zDaRlE3dS test@example"


def demo_keypairs(dash: CloudHandle) -> set[str]:
    token = project_token(dash, "demo", "demo")
    resp = httpx.get(f"{dash.urls['compute']}/os-keypairs", headers={"X-Auth-Token": token}, timeout=30)
    return {k["keypair"]["name"] for k in resp.json()["keypairs"]}


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_a_form_without_the_csrf_token_is_refused(dash: CloudHandle, demo: tuple[httpx.Client, str], token) -> None:
    client, _csrf = demo
    data = {"name": f"csrf-{token}", "public_key": KEY}
    if token is not None:
        data["csrf_token"] = token
    resp = client.post("/project/key-pairs/import", data=data)
    assert resp.status_code == 403
    assert "security token" in resp.text
    assert f"csrf-{token}" not in demo_keypairs(dash)


def test_the_same_form_with_the_token_works(dash: CloudHandle, demo: tuple[httpx.Client, str]) -> None:
    client, csrf = demo
    resp = client.post("/project/key-pairs/import", data={"name": "with-csrf", "public_key": KEY, "csrf_token": csrf})
    assert resp.status_code == 303
    assert "with-csrf" in demo_keypairs(dash)
    resp = client.post("/project/key-pairs/with-csrf/delete", headers={"X-CSRF-Token": csrf})
    assert resp.status_code == 303
    assert "with-csrf" not in demo_keypairs(dash)


def test_login_and_logout_need_the_csrf_token_too(dash: CloudHandle) -> None:
    with httpx.Client(base_url=dash.urls["dashboard"], timeout=30) as client:
        client.get("/auth/login")
        resp = client.post("/auth/login", data={"username": "demo", "password": dash.demo_password})
        assert resp.status_code == 403
    client, csrf = logged_in(dash, "demo")
    try:
        assert client.post("/auth/logout").status_code == 403
        assert client.get("/project/").status_code == 200  # still logged in
    finally:
        client.post("/auth/logout", data={"csrf_token": csrf})
        client.close()


def test_session_cookie_is_httponly_and_samesite(dash: CloudHandle) -> None:
    with httpx.Client(base_url=dash.urls["dashboard"], timeout=30) as client:
        resp = client.get("/auth/login")
        cookie = resp.headers["set-cookie"]
        assert "HttpOnly" in cookie and re.search(r"SameSite=(lax|strict)", cookie, re.I), cookie
        before = client.cookies["stratus_session"]
        csrf = CSRF.search(resp.text).group(1)  # type: ignore[union-attr]
        resp = client.post("/auth/login", data={"username": "demo", "password": dash.demo_password, "csrf_token": csrf})
        cookie = resp.headers["set-cookie"]
        assert "HttpOnly" in cookie and re.search(r"SameSite=(lax|strict)", cookie, re.I), cookie
        assert client.cookies["stratus_session"] != before  # a new session id at login
        assert resp.headers["content-security-policy"].startswith("default-src 'self'")


def test_another_projects_instance_id_is_not_found(dash: CloudHandle, demo: tuple[httpx.Client, str]) -> None:
    token = project_token(dash, "admin", "admin")
    headers = {"X-Auth-Token": token}
    compute = dash.urls["compute"]
    image = httpx.get(f"{dash.urls['image']}/v2/images?name=testvm", headers=headers, timeout=30).json()["images"][0]
    body = {"server": {"name": "admins-vm", "imageRef": image["id"], "flavorRef": "1", "networks": "none"}}
    resp = httpx.post(f"{compute}/servers", json=body, headers=headers, timeout=30)
    assert resp.status_code == 202, resp.text
    server_id = resp.json()["server"]["id"]
    client, csrf = demo
    try:
        for path in (f"/project/instances/{server_id}", f"/project/instances/{server_id}/console"):
            page = client.get(path)
            assert page.status_code == 404 and "not found" in page.text.lower()
            assert "admins-vm" not in page.text
        resp = client.post(f"/project/instances/{server_id}/action", data={"action": "delete", "csrf_token": csrf})
        assert resp.status_code == 404
        assert httpx.get(f"{compute}/servers/{server_id}", headers=headers, timeout=30).status_code == 200
        # Nothing typed into the id reaches the API as another path or a query: "detail" is the list,
        # %2E%2E would climb a level, %3F would start a query string.
        for bad in ("not-a-uuid", "detail", "%2E%2E", f"{server_id}%3Fall_tenants%3D1", "x%2Fdetail"):
            page = client.get(f"/project/instances/{bad}")
            assert page.status_code == 404 and "not found" in page.text.lower(), (bad, page.text[-500:])
    finally:
        httpx.delete(f"{compute}/servers/{server_id}", headers=headers, timeout=30)


def test_api_errors_are_shown_as_messages(dash: CloudHandle, demo: tuple[httpx.Client, str]) -> None:
    client, csrf = demo
    resp = client.post(
        "/project/key-pairs/import",
        data={"name": "bad-key", "public_key": "not a key", "csrf_token": csrf},
        follow_redirects=True,
    )
    assert resp.status_code == 200, resp.text[-3000:]
    flash = re.search(r'<div class="flash error"[^>]*>(.*?)</div>', resp.text, re.S)
    assert flash and flash.group(1).startswith("Compute: "), resp.text[:2000]
    assert "Traceback" not in resp.text


def test_invalid_form_input_is_not_echoed(dash: CloudHandle, demo: tuple[httpx.Client, str]) -> None:
    client, csrf = demo
    resp = client.post("/auth/switch", data={"csrf_token": csrf, "secret-ish": "s3cr3t-value"})
    assert resp.status_code == 400
    assert "s3cr3t-value" not in resp.text and "project_id" in resp.text
