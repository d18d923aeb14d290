"""Thin wrappers of each service's HTTP API, as Horizon's ``openstack_dashboard/api``: endpoints from the catalog.

:class:`Clients` is what a view gets: ``clients.compute``, ``clients.image``, ``clients.network``
(raises NotAvailable when the catalog has no such endpoint) and ``clients.identity`` (admin views).
"""

from __future__ import annotations

from typing import Any

from stratus.dashboard.api.base import ApiError, Http, NotAvailable, Unauthorized
from stratus.dashboard.api.compute import Compute
from stratus.dashboard.api.identity import Auth, IdentityAdmin, TokenInfo
from stratus.dashboard.api.image import Images
from stratus.dashboard.api.network import Network

__all__ = [
    "ApiError",
    "Auth",
    "Clients",
    "Http",
    "NotAvailable",
    "TokenInfo",
    "Unauthorized",
    "endpoints_from_catalog",
]


def endpoints_from_catalog(catalog: list[dict[str, Any]], interface: str, region: str | None) -> dict[str, str]:
    """``{service type: url}`` for the chosen interface (and region, if given)."""
    found: dict[str, str] = {}
    for service in catalog:
        for ep in service.get("endpoints", []):
            if ep.get("interface") != interface:
                continue
            if region and region not in (ep.get("region_id"), ep.get("region")):
                continue
            found.setdefault(service["type"], ep["url"])
    return found


class Clients:
    """The services as one user's token sees them (built per request; cheap: the pool is shared)."""

    def __init__(self, http: Http, endpoints: dict[str, str], token: str):
        self._http = http
        self._endpoints = endpoints
        self._token = token

    def has(self, service_type: str) -> bool:
        return bool(self._endpoints.get(service_type))

    @property
    def compute(self) -> Compute:
        return Compute(self._http, self._endpoints.get("compute"), self._token)

    @property
    def image(self) -> Images:
        return Images(self._http, self._endpoints.get("image"), self._token)

    @property
    def network(self) -> Network:
        return Network(self._http, self._endpoints.get("network"), self._token)

    @property
    def identity(self) -> IdentityAdmin:
        return IdentityAdmin(self._http, self._endpoints.get("identity"), self._token)
