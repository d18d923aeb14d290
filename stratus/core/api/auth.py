"""Token validation for every API: a FastAPI dependency backed by a cached validator.

Services other than identity validate tokens by asking the identity API
(``GET /v3/auth/tokens`` with the token as both ``X-Auth-Token`` and ``X-Subject-Token``, which
Keystone's policy allows a token's own subject to do). Results are cached for a short time; a
revocation notification on the bus (``identity.token.revoked``) empties the cache at once, so a
revoked token stops working everywhere without waiting for the cache to expire.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import httpx
from fastapi import Request

from stratus.core.context import RequestContext
from stratus.core.exceptions import ServiceUnavailable, StratusError, Unauthorized

REVOCATION_EVENT = "identity.token.revoked"


class TokenValidator(Protocol):
    def validate(self, token: str) -> RequestContext:
        """Return the token's context or raise Unauthorized."""
        ...


def parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def context_from_token_body(body: dict[str, Any], token: str) -> RequestContext:
    """Build a context from a Keystone v3 token document (``{"token": {...}}``)."""
    data = body["token"]
    user = data["user"]
    project = data.get("project") or {}
    domain = data.get("domain") or {}
    app_cred = data.get("application_credential") or {}
    return RequestContext(
        user_id=user["id"],
        user_name=user.get("name", ""),
        user_domain_id=(user.get("domain") or {}).get("id", ""),
        project_id=project.get("id"),
        project_name=project.get("name"),
        project_domain_id=(project.get("domain") or {}).get("id"),
        domain_id=domain.get("id"),
        system_scope="all" if (data.get("system") or {}).get("all") else None,
        roles=frozenset(r["name"] for r in data.get("roles", [])),
        token=token,
        audit_ids=tuple(data.get("audit_ids", ())),
        expires_at=parse_timestamp(data["expires_at"]) if data.get("expires_at") else None,
        methods=tuple(data.get("methods", ())),
        application_credential_id=app_cred.get("id"),
    )


class CachingValidator:
    """Wraps a validator with a bounded, short-lived cache, cleared on revocation events."""

    def __init__(self, inner: TokenValidator, ttl: float = 30.0, max_entries: int = 10000):
        self._inner = inner
        self._ttl = ttl
        self._max = max_entries
        self._cache: OrderedDict[str, tuple[float, RequestContext]] = OrderedDict()
        self._lock = threading.Lock()

    def validate(self, token: str) -> RequestContext:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(token)
            if hit and now - hit[0] < self._ttl:
                ctx = hit[1]
                if ctx.expires_at is None or ctx.expires_at > datetime.now(UTC):
                    return ctx
        ctx = self._inner.validate(token)
        with self._lock:
            self._cache[token] = (now, ctx)
            self._cache.move_to_end(token)
            while len(self._cache) > self._max:
                self._cache.popitem(last=False)
        return ctx

    def invalidate_all(self, *_args: Any) -> None:
        with self._lock:
            self._cache.clear()


class IdentityApiValidator:
    """Validates tokens against a Keystone-compatible identity endpoint."""

    def __init__(self, identity_url: str, timeout: float = 10.0, transport: httpx.BaseTransport | None = None):
        self._client = httpx.Client(base_url=identity_url.rstrip("/"), timeout=timeout, transport=transport)

    def validate(self, token: str) -> RequestContext:
        headers = {"X-Auth-Token": token, "X-Subject-Token": token}
        try:
            resp = self._client.get("/v3/auth/tokens", params={"nocatalog": "1"}, headers=headers)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"The identity service is unreachable: {exc}") from exc
        if resp.status_code in (401, 403, 404):
            raise Unauthorized("The request you have made requires authentication.")
        if resp.status_code != 200:
            raise ServiceUnavailable(f"The identity service answered {resp.status_code} while validating a token.")
        return context_from_token_body(resp.json(), token)

    def close(self) -> None:
        self._client.close()


def build_authenticator(identity_url: str, *, bus: Any = None, cache_ttl: float = 30.0) -> Authenticator:
    """The authenticator a non-identity API uses: identity-backed, cached, flushed on revocation.

    ``bus`` is a :class:`stratus.core.bus.Bus` (or None when there is no bus, e.g. in unit tests).
    """
    cache = CachingValidator(IdentityApiValidator(identity_url), ttl=cache_ttl)
    if bus is not None:
        bus.subscribe(REVOCATION_EVENT, cache.invalidate_all)
    return Authenticator(cache)


class StaticValidator:
    """Maps known tokens to contexts; for tests of services that do not run identity."""

    def __init__(self, tokens: dict[str, RequestContext] | None = None):
        self.tokens = dict(tokens or {})

    def validate(self, token: str) -> RequestContext:
        try:
            return self.tokens[token]
        except KeyError:
            raise Unauthorized("The request you have made requires authentication.") from None


class Authenticator:
    """FastAPI dependency: ``ctx: RequestContext = Depends(authenticator)``."""

    def __init__(self, validator: TokenValidator | Callable[[], TokenValidator]):
        self._validator = validator

    def _get(self) -> TokenValidator:
        v = self._validator
        return v if hasattr(v, "validate") else v()  # type: ignore[operator,return-value]

    def __call__(self, request: Request) -> RequestContext:
        token = request.headers.get("x-auth-token")
        if not token:
            raise Unauthorized("The request you have made requires authentication.")
        try:
            ctx = self._get().validate(token)
        except StratusError:
            raise
        except Exception as exc:  # a garbled token must never become a 500
            raise Unauthorized("The request you have made requires authentication.") from exc
        request_id = getattr(request.state, "request_id", "")
        return RequestContext(**{**ctx.__dict__, "request_id": request_id})
