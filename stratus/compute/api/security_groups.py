"""Nova's security group proxies (os-security-groups, os-security-group-rules, a server's groups).

They forward to the network API with the user's token. The group and rule APIs end at microversion
2.35 (404 after, as Nova answers); a server's groups stay in every version. Without a network
service there is nothing to proxy: 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request, Response

from stratus.compute.api.deps import ApiVersion, Context, JsonBody, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.core.network_calls import NOT_FOUND, user_network
from stratus.compute.core.network_proxy import check_version
from stratus.compute.core.security_groups import SecurityGroupProxy
from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound

router = APIRouter(prefix="/v2.1")


@contextmanager
def _proxy(
    request: Request, ctx: RequestContext, rule: str, version: Version | None, project_id: str | None = None
) -> Iterator[SecurityGroupProxy]:
    """The proxy after the version and policy checks (``version`` None: every version)."""
    if version is not None:
        check_version(version)
    service = get_service(request)
    with user_network(service.deps.network, ctx) as client:
        target = {"project_id": project_id or ctx.project_id}
        service.enforcer.enforce(ctx, f"os_compute_api:os-security-groups:{rule}", target)
        yield SecurityGroupProxy(client, ctx)


@router.api_route("/os-security-groups/", methods=["GET", "PUT", "DELETE"], include_in_schema=False)
def no_group_id(ctx: RequestContext = Context) -> None:
    """A group path without its id: 404, as Nova answers (not 405)."""
    raise NotFound(NOT_FOUND)


@router.get("/os-security-groups")
def list_groups(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    with _proxy(request, ctx, "get", version) as proxy:
        return {"security_groups": proxy.list(params, get_service(request).conf.max_limit)}


@router.post("/os-security-groups")
def create_group(
    request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> dict[str, Any]:
    with _proxy(request, ctx, "create", version) as proxy:
        return {"security_group": proxy.create(body)}


@router.get("/os-security-groups/{group_id}")
def show_group(
    group_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> dict[str, Any]:
    with _proxy(request, ctx, "show", version) as proxy:
        return {"security_group": proxy.show(group_id)}


@router.put("/os-security-groups/{group_id}")
def update_group(
    group_id: str, request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> dict[str, Any]:
    with _proxy(request, ctx, "update", version) as proxy:
        return {"security_group": proxy.update(group_id, body)}


@router.delete("/os-security-groups/{group_id}", status_code=202)
def delete_group(
    group_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> Response:
    with _proxy(request, ctx, "delete", version) as proxy:
        proxy.delete(group_id)
    return Response(status_code=202)


@router.post("/os-security-group-rules")
def create_rule(
    request: Request, ctx: RequestContext = Context, body: Any = JsonBody, version: Version = ApiVersion
) -> dict[str, Any]:
    with _proxy(request, ctx, "rule:create", version) as proxy:
        return {"security_group_rule": proxy.create_rule(body)}


@router.delete("/os-security-group-rules/{rule_id}", status_code=202)
def delete_rule(
    rule_id: str, request: Request, ctx: RequestContext = Context, version: Version = ApiVersion
) -> Response:
    with _proxy(request, ctx, "rule:delete", version) as proxy:
        proxy.delete_rule(rule_id)
    return Response(status_code=202)


@router.get("/servers/{server_id}/os-security-groups")
def server_groups(server_id: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    """In every microversion, as Nova keeps it; another project's server is a 404."""
    rec = get_service(request).servers.show(ctx, server_id)
    with _proxy(request, ctx, "list", None, rec.inst.project_id) as proxy:
        return {"security_groups": proxy.of_server(rec.inst.uuid)}
