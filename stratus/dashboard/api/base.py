"""The HTTP plumbing the API wrappers share: one connection pool, errors turned into readable messages.

As Horizon's ``openstack_dashboard/api/`` modules do, each wrapper takes the caller's token and
the catalog endpoint, calls the service's public API and hands back plain dicts. A token is only
ever put in the ``X-Auth-Token`` / ``X-Subject-Token`` headers, never in a URL, so neither httpx's
request log nor any error message can carry one.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

import httpx

LOG = logging.getLogger(__name__)

SERVICE_TITLES = {
    "identity": "Identity",
    "compute": "Compute",
    "image": "Image",
    "network": "Networking",
}


class ApiError(Exception):
    """A service refused a call or could not be reached; ``str()`` is fit to show to the user."""

    def __init__(self, service: str, status: int, message: str):
        super().__init__(message)
        self.service = service
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return f"{SERVICE_TITLES.get(self.service, self.service)}: {self.message}"


class Unauthorized(ApiError):
    """The token was refused (expired or revoked): the session must end."""


class NotAvailable(ApiError):
    """The catalog has no endpoint of this type (networking not deployed, for example)."""

    def __init__(self, service: str):
        super().__init__(service, 503, f"{SERVICE_TITLES.get(service, service)} is not available in this cloud.")


def error_message(resp: httpx.Response) -> str:
    """The human message of an OpenStack error body of any service's shape, else the reason phrase."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("message"), str):  # image: {"code", "title", "message"}
            return str(body["message"])
        for value in body.values():  # identity {"error": {...}}, compute {"itemNotFound": {...}}, NeutronError
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])
    text = resp.text.strip()
    if text and len(text) < 300 and "<" not in text:
        return text
    return f"{resp.status_code} {resp.reason_phrase}"


class Http:
    """One shared ``httpx.Client`` (thread-safe connection pool) for every call the dashboard makes."""

    def __init__(self, timeout: float, transport: httpx.BaseTransport | None = None):
        self._client = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        service: str,
        method: str,
        url: str,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        ok_statuses: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; raise ApiError (Unauthorized on 401) for an error status or a transport failure."""
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["X-Auth-Token"] = token
        try:
            try:
                resp = self._client.request(method, url, headers=all_headers, **kwargs)
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                if method != "GET":
                    raise
                # A pooled keep-alive connection the server had closed: a read is safe to send again once.
                resp = self._client.request(method, url, headers=all_headers, **kwargs)
        except httpx.TimeoutException:
            raise ApiError(service, 504, "the service did not answer in time; try again.") from None
        except httpx.HTTPError as exc:
            LOG.warning(
                "%s API unreachable at %s: %s", service, httpx.URL(url).copy_with(query=None), type(exc).__name__
            )
            raise ApiError(service, 503, "the service cannot be reached right now.") from None
        if resp.status_code >= 400 and resp.status_code not in ok_statuses:
            message = error_message(resp)
            if resp.status_code == 401:
                raise Unauthorized(service, 401, message)
            raise ApiError(service, resp.status_code, message)
        return resp

    def json(self, service: str, method: str, url: str, **kwargs: Any) -> Any:
        resp = self.request(service, method, url, **kwargs)
        return resp.json() if resp.content else None


class ServiceApi:
    """Base of the per-service wrappers: an endpoint from the catalog, the user's token, the shared pool."""

    service = ""
    headers: dict[str, str] = {}

    def __init__(self, http: Http, endpoint: str | None, token: str):
        if not endpoint:
            raise NotAvailable(self.service)
        self._http = http
        self._base = endpoint.rstrip("/")
        self._token = token

    def _seg(self, value: str) -> str:
        """``value`` as one path segment: an id or name from the browser can never add a path or a query.

        ``.`` and ``..`` (which URL normalisation would turn into another path) are not found, as the
        API would say of any other unknown id.
        """
        if value in ("", ".", ".."):
            raise ApiError(self.service, 404, f"{value!r} was not found.")
        return quote(value, safe="")

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self._http.json(self.service, method, self._base + path, token=self._token, headers=headers, **kwargs)
