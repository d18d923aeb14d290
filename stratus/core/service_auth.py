"""Service tokens: how one service authenticates to another's API (Nova's ``[neutron]``, Neutron's ``[nova]``).

``ServiceTokens`` logs in as the ``[service_auth]`` user with a password, scoped to its project, and
keeps the token until about five minutes before it expires. Callers that get a 401 call
``invalidate()`` and ask again once.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from stratus.core.config import ServiceAuthConfig

REFRESH_MARGIN = 300.0
"""Seconds before expiry at which a cached token is replaced."""
FALLBACK_LIFETIME = 3600.0
"""How long a token without ``expires_at`` is kept."""


class ServiceAuthError(Exception):
    """The identity service refused or could not be reached; ``status`` is 0 for a transport error."""

    def __init__(self, status: int, message: str):
        super().__init__(f"service authentication failed ({status}): {message}")
        self.status = status
        self.message = message


class ServiceTokens:
    """A thread-safe source of project-scoped tokens for the service user."""

    def __init__(
        self,
        identity_url: str,
        conf: ServiceAuthConfig,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
    ):
        self._url = identity_url.rstrip("/")
        self._conf = conf
        self._transport = transport
        self._timeout = timeout
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0

    @property
    def configured(self) -> bool:
        """False when no password is set: service-to-service calls are then switched off."""
        return bool(self._conf.password)

    def token(self) -> str:
        """A valid token (a cached one, or a fresh one). Raises ServiceAuthError."""
        with self._lock:
            if self._token is not None and time.monotonic() < self._refresh_at:
                return self._token
            token, lifetime = self._issue()
            self._token = token
            self._refresh_at = time.monotonic() + max(0.0, lifetime - REFRESH_MARGIN)
            return token

    def __call__(self) -> str:
        return self.token()

    def invalidate(self) -> None:
        """Forget the cached token (e.g. after a 401): the next ``token()`` logs in again."""
        with self._lock:
            self._token = None

    def _issue(self) -> tuple[str, float]:
        if not self.configured:
            raise ServiceAuthError(0, "[service_auth] password is not set")
        c = self._conf
        body: dict[str, Any] = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": c.username, "domain": {"name": c.user_domain_name}, "password": c.password}
                    },
                },
                "scope": {"project": {"name": c.project_name, "domain": {"name": c.project_domain_name}}},
            }
        }
        try:
            with httpx.Client(base_url=self._url, timeout=self._timeout, transport=self._transport) as http:
                resp = http.post("/v3/auth/tokens", params={"nocatalog": "1"}, json=body)
        except httpx.HTTPError as exc:
            raise ServiceAuthError(0, f"identity service unreachable: {exc}") from exc
        token = resp.headers.get("X-Subject-Token")
        if resp.status_code != 201 or not token:
            raise ServiceAuthError(resp.status_code, resp.text[:200])
        return token, _lifetime(resp)


def _lifetime(resp: httpx.Response) -> float:
    """Seconds until the token in ``resp`` expires."""
    try:
        expires = (resp.json().get("token") or {}).get("expires_at")
    except ValueError:
        expires = None
    if not expires:
        return FALLBACK_LIFETIME
    when = datetime.fromisoformat(str(expires).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - datetime.now(UTC)).total_seconds()
