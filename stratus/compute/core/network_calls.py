"""Calling the network API as the user: the client (or 404 without a network service) and its errors.

The one translation of the network API's answers into the compute API's errors, for the server
security-group actions and Nova's network proxies: a refusal keeps its kind (a 4xx stays a 4xx, never a
500), the network service failing or unreachable is a 503. Nova maps some refusals differently per call;
``conflict`` and ``not_found`` say what a 409 and a 404 become there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from stratus.compute.core.network import NetworkBinder
from stratus.core.context import RequestContext
from stratus.core.exceptions import BadRequest, Conflict, Forbidden, NotFound, ServiceUnavailable, StratusError
from stratus.network.client import NetworkClient, NetworkClientError

NOT_FOUND = "The resource could not be found."


@contextmanager
def network_errors(
    *, conflict: type[StratusError] = Conflict, not_found: type[StratusError] = NotFound
) -> Iterator[None]:
    try:
        yield
    except NetworkClientError as err:
        if err.status >= 500:  # the network service failed: nothing the user can fix, try again later
            raise ServiceUnavailable(f"The network service answered {err.status}: {err.message}") from None
        kind = {401: Forbidden, 403: Forbidden, 404: not_found, 409: conflict}.get(err.status, BadRequest)
        raise kind(err.message) from None
    except httpx.HTTPError as err:
        raise ServiceUnavailable(f"The network service is unreachable: {err}") from None


@contextmanager
def user_network(binder: NetworkBinder, ctx: RequestContext) -> Iterator[NetworkClient]:
    """The network API with the user's token, its errors translated; 404 without a network service
    (there is nothing to proxy)."""
    client = binder.user_client(ctx)
    if client is None:
        raise NotFound(NOT_FOUND)
    with client, network_errors():
        yield client
