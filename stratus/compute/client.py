"""A small client of the Compute v2.1 API for other services (the network service sends server events with it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

MICROVERSION = "2.1"


class ComputeClientError(Exception):
    """The compute API refused a call (``status`` 0: it could not be reached)."""

    def __init__(self, status: int, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


class ComputeClient:
    """``base_url`` is the compute endpoint root (``http://host:8774``); ``token_source`` gives a token.

    ``invalidate`` (if given) is called on a 401 before the one retry with a fresh token.
    """

    def __init__(
        self,
        base_url: str,
        token_source: Callable[[], str],
        *,
        invalidate: Callable[[], None] | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ):
        self._tokens = token_source
        self._invalidate = invalidate or getattr(token_source, "invalidate", None)
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ComputeClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        headers = {"X-Auth-Token": self._tokens(), "OpenStack-API-Version": f"compute {MICROVERSION}"}
        try:
            return self._http.post(path, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise ComputeClientError(0, f"compute API unreachable: {exc}") from exc

    def server_external_events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """POST /v2.1/os-server-external-events; returns the body (200 or 207: per-event ``code``)."""
        path = "/v2.1/os-server-external-events"
        resp = self._post(path, {"events": events})
        if resp.status_code == 401 and self._invalidate is not None:
            self._invalidate()
            resp = self._post(path, {"events": events})
        if resp.status_code not in (200, 207):
            raise ComputeClientError(resp.status_code, _message(resp))
        return resp.json()  # type: ignore[no-any-return]


def _message(resp: httpx.Response) -> str:
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200]
    if isinstance(body, dict) and body:
        inner = next(iter(body.values()))
        if isinstance(inner, dict) and "message" in inner:
            return str(inner["message"])
    return resp.text[:200]
