"""Runs last (file name): nothing the browser saw, and nothing the cloud logged, holds a password or a token."""

from __future__ import annotations

import re

from tests.browser.conftest import Seen
from tests.conftest import CloudHandle

FERNET = re.compile(r"gAAAAA[A-Za-z0-9_\-=]{40,}")


def test_no_token_or_password_in_any_page_url_or_log(dash: CloudHandle, seen: Seen) -> None:
    """Runs after the browser tests: nothing they saw, and nothing the cloud logged, holds a secret."""
    assert seen.bodies and seen.urls, "the browser tests must run first in this session"
    secrets = [dash.admin_password, dash.demo_password]
    for text in [*seen.bodies, *seen.urls, dash.log.read_text(errors="replace")]:
        for secret in secrets:
            assert secret not in text
        assert not FERNET.search(text)
