"""Pure-ASGI middleware: request ids and request body size limits."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stratus.core.exceptions import PayloadTooLarge

REQUEST_ID_HEADER = "x-openstack-request-id"
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="")


class RequestIdMiddleware:
    """Gives every request a ``req-<uuid>`` id, returned as ``X-OpenStack-Request-ID``."""

    def __init__(self, app: ASGIApp, extra_headers: tuple[str, ...] = ()):
        self.app = app
        self.header_names = (REQUEST_ID_HEADER, *extra_headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = f"req-{uuid.uuid4()}"
        scope.setdefault("state", {})["request_id"] = request_id
        token = current_request_id.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(name.encode(), request_id.encode()) for name in self.header_names]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)


class BodyLimitMiddleware:
    """Refuses request bodies above ``max_bytes`` with 413, except on streaming paths."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        render: Callable[[int, str, str], dict[str, Any]],
        unlimited_paths: str | None = None,
    ):
        self.app = app
        self.max_bytes = max_bytes
        self.render = render
        self.unlimited = re.compile(unlimited_paths) if unlimited_paths else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (self.unlimited and self.unlimited.search(scope["path"])):
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                await self._reject(send)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise PayloadTooLarge(self._message())
            return message

        await self.app(scope, limited_receive, send)

    def _message(self) -> str:
        return f"Request body is larger than the limit of {self.max_bytes} bytes."

    async def _reject(self, send: Send) -> None:
        body = json.dumps(self.render(413, "Request Entity Too Large", self._message())).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
