"""Microversion negotiation: ``OpenStack-API-Version: compute 2.x`` (or the legacy Nova header).

Supported range: 2.1 to 2.79 (see MIN_VERSION / MAX_VERSION). A request without a version gets
2.1; ``latest`` gets 2.79; a malformed version is a 400 and one outside the range a 406. Every
response under ``/v2.1`` says which version answered and varies on both headers.
"""

from __future__ import annotations

import json
import re

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stratus.compute.api.errors import nova_error

MIN_VERSION = (2, 1)
MAX_VERSION = (2, 79)
VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")
HEADERS = ("openstack-api-version", "x-openstack-nova-api-version")


class Version(tuple[int, int]):
    """A microversion, comparable with ``>=`` against "2.47" style strings."""

    def __new__(cls, major: int, minor: int) -> Version:
        return super().__new__(cls, (major, minor))

    def __ge__(self, other: object) -> bool:  # type: ignore[override]
        return tuple(self) >= _tuple(other)

    def __lt__(self, other: object) -> bool:  # type: ignore[override]
        return tuple(self) < _tuple(other)

    def __str__(self) -> str:
        return f"{self[0]}.{self[1]}"


def _tuple(value: object) -> tuple[int, ...]:
    if isinstance(value, str):
        return tuple(int(p) for p in value.split("."))
    return tuple(value)  # type: ignore[arg-type]


MIN, MAX = Version(*MIN_VERSION), Version(*MAX_VERSION)


def requested(headers: dict[str, str]) -> str | None:
    """The version string a client asked for, new header first."""
    value = headers.get("openstack-api-version")
    if value:
        for part in value.split(","):
            service, _, version = part.strip().partition(" ")
            if service.lower() == "compute":
                return version.strip()
    return headers.get("x-openstack-nova-api-version") or None


def negotiate(value: str | None) -> tuple[Version | None, int, str]:
    """(version, 0, "") or (None, status, message) for a bad request."""
    if value is None:
        return MIN, 0, ""
    if value.lower() == "latest":
        return MAX, 0, ""
    match = VERSION_RE.match(value.strip())
    if not match:
        return None, 400, f"API Version String {value} is of invalid format. Must be of format MajorNum.MinorNum."
    version = Version(int(match.group(1)), int(match.group(2)))
    if not (MIN <= version <= MAX):  # type: ignore[operator]
        return None, 406, f"Version {value} is not supported by the API. Minimum is {MIN} and maximum is {MAX}."
    return version, 0, ""


class MicroversionMiddleware:
    """Negotiates the version of requests under ``/v2.1`` and stamps the response headers."""

    def __init__(self, app: ASGIApp, prefix: str = "/v2.1"):
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not (path == self.prefix or path.startswith(self.prefix + "/")):
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
        version, status, message = negotiate(requested(headers))
        stamp = [
            (b"openstack-api-version", f"compute {version or MIN}".encode()),
            (b"x-openstack-nova-api-version", str(version or MIN).encode()),
            (b"vary", b"OpenStack-API-Version, X-OpenStack-Nova-API-Version"),
        ]
        if version is None:
            body = json.dumps(nova_error(status, "", message)).encode()
            head = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *stamp]
            await send({"type": "http.response.start", "status": status, "headers": head})
            await send({"type": "http.response.body", "body": body})
            return
        scope.setdefault("state", {})["api_version"] = version

        async def send_stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *stamp]
            await send(message)

        await self.app(scope, receive, send_stamped)


def api_version(request: Request) -> Version:
    """The negotiated version of this request (2.1 outside ``/v2.1``)."""
    return getattr(request.state, "api_version", MIN)  # type: ignore[no-any-return]
