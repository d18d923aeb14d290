"""``GET /v2.1/limits``: absolute limits of the project with what it uses."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import ApiVersion, Context, Query, get_service
from stratus.compute.api.microversion import Version
from stratus.core.context import RequestContext

router = APIRouter(prefix="/v2.1/limits")


@router.get("")
def show_limits(
    request: Request, ctx: RequestContext = Context, params: dict[str, str] = Query, version: Version = ApiVersion
) -> dict[str, Any]:
    limit, used = get_service(request).quotas.absolute_limits(ctx, params.get("tenant_id"))
    absolute: dict[str, Any] = {
        "maxTotalInstances": limit["instances"],
        "maxTotalCores": limit["cores"],
        "maxTotalRAMSize": limit["ram"],
        "maxServerMeta": limit["metadata_items"],
        "maxTotalKeypairs": limit["key_pairs"],
        "maxServerGroups": limit["server_groups"],
        "maxServerGroupMembers": limit["server_group_members"],
        "totalInstancesUsed": used["instances"],
        "totalCoresUsed": used["cores"],
        "totalRAMUsed": used["ram"],
        "totalServerGroupsUsed": used["server_groups"],
    }
    if version < "2.57":
        absolute.update(
            {
                "maxPersonality": limit["injected_files"],
                "maxPersonalitySize": limit["injected_file_content_bytes"],
                "maxImageMeta": 128,
            }
        )
    if version < "2.36":
        absolute.update(
            {
                "maxSecurityGroups": limit["security_groups"],
                "maxSecurityGroupRules": limit["security_group_rules"],
                "maxTotalFloatingIps": limit["floating_ips"],
                "totalSecurityGroupsUsed": 0,
                "totalFloatingIpsUsed": 0,
            }
        )
    return {"limits": {"rate": [], "absolute": absolute}}
