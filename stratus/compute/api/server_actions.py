"""``POST /v2.1/servers/{id}/action``: power, reboot, lock, rebuild, resize, snapshot, console output."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from stratus.compute.api.deps import ApiVersion, Context, JsonBody, get_service
from stratus.compute.api.microversion import Version
from stratus.compute.api.servers import render
from stratus.compute.core import network_proxy
from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound

router = APIRouter(prefix="/v2.1/servers")

# Nova's floating IP proxy actions, which exist up to 2.43 (with the user's token, through the network API)
FLOATING_IP_ACTIONS = {
    "addFloatingIp": network_proxy.add_floating_ip,
    "removeFloatingIp": network_proxy.remove_floating_ip,
}


@router.post("/{server_id}/action")
def server_action(
    server_id: str,
    request: Request,
    ctx: RequestContext = Context,
    body: Any = JsonBody,
    version: Version = ApiVersion,
) -> Response:
    if isinstance(body, dict) and len(body) == 1 and next(iter(body)) in FLOATING_IP_ACTIONS:
        ((name, args),) = body.items()
        if version >= "2.44":
            raise NotFound("The resource could not be found.")
        FLOATING_IP_ACTIONS[name](get_service(request), ctx, server_id, args)
        return Response(status_code=202)
    result = get_service(request).actions.run(ctx, server_id, body, version)
    if result.server is not None:
        # The rebuild answer: short before 2.75, with key_name from 2.54 and user_data from 2.57.
        full = version >= "2.75"
        server = render(request, ctx, result.server, version, show=True, full=full)
        if not full and version >= "2.54":
            server["key_name"] = result.server.inst.key_name
        if version >= "2.57":
            server.pop("OS-EXT-SRV-ATTR:user_data", None)  # rebuild shows it as user_data instead
            server["user_data"] = result.server.inst.user_data
        if result.server.admin_pass:
            server["adminPass"] = result.server.admin_pass
        return JSONResponse({"server": server}, status_code=result.status, headers=result.headers)
    if result.body is not None:
        return JSONResponse(result.body, status_code=result.status, headers=result.headers)
    return Response(status_code=result.status, headers=result.headers)
