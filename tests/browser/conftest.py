"""Fixtures of the dashboard tests: one cloud with the dashboard, Debian's chromium driven by Playwright.

No browser is downloaded: Playwright launches ``/usr/bin/chromium`` (``apt-get install chromium``).
Screenshots go to ``test-output/dashboard/`` (git-ignored), printed at the end of the session.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.cloud import dashboard_cloud
from tests.conftest import REPO, CloudHandle

CHROMIUM = Path("/usr/bin/chromium")
OUTPUT = REPO / "test-output" / "dashboard"
DEADLINE_MS = 60_000


@pytest.fixture(scope="session")
def dash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CloudHandle]:
    with dashboard_cloud(tmp_path_factory.mktemp("dashcloud")) as handle:
        yield handle


@pytest.fixture(scope="session")
def shots() -> Iterator[Path]:
    if OUTPUT.exists():
        shutil.rmtree(OUTPUT)
    OUTPUT.mkdir(parents=True)
    yield OUTPUT
    print(f"\ndashboard screenshots: {OUTPUT}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: apt-get install -y chromium (no browser is downloaded)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


class Seen:
    """Every URL the browser requested and every page body it got, checked for secrets at the end."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.bodies: list[str] = []


@pytest.fixture(scope="session")
def seen() -> Seen:
    return Seen()


@pytest.fixture
def page(browser: Any, seen: Seen) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1360, "height": 900})
    context.set_default_timeout(DEADLINE_MS)
    page = context.new_page()
    page.on("request", lambda req: seen.urls.append(req.url))

    def keep(resp: Any) -> None:
        if "text/html" in resp.headers.get("content-type", ""):
            try:
                seen.bodies.append(resp.text())
            except Exception:  # a body already gone (navigated away): nothing to check
                pass

    page.on("response", keep)
    page.on("dialog", lambda dialog: dialog.accept())
    try:
        yield page
    finally:
        context.close()


def login(page: Any, base_url: str, user: str, password: str) -> None:
    page.goto(f"{base_url}/auth/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/project/$"))
