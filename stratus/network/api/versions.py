"""Version discovery (``GET /``), the v2.0 resource index and ``/v2.0/extensions``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.core.context import RequestContext
from stratus.network.api.deps import Context
from stratus.network.errors import not_found

router = APIRouter()

EXTENSIONS: list[tuple[str, str, str]] = [
    ("agent", "agent", "The agent management extension."),
    ("allowed-address-pairs", "Allowed Address Pairs", "Provides allowed address pairs"),
    ("binding", "Port Binding", "Expose port bindings of a virtual port to external application"),
    ("default-subnetpools", "Default Subnetpools", "Provides ability to mark and use a subnetpool as the default."),
    ("external-net", "Neutron external network", "Adds external network attribute to network resource."),
    ("extraroute", "Neutron Extra Route", "Extra routes configuration for L3 router"),
    (
        "ext-gw-mode",
        "Neutron L3 Configurable external gateway mode",
        "Extension of the router abstraction for specifying whether SNAT should occur on the external gateway",
    ),
    ("filter-validation", "Filter parameters validation", "Provides validation on filter parameters."),
    ("fip-port-details", "Floating IP Port Details Extension", "Add port_details attribute to Floating IP resource"),
    (
        "ip-substring-filtering",
        "IP address substring filtering",
        "Provides IP address substring filtering when listing ports",
    ),
    ("network_availability_zone", "Network Availability Zone", "Availability zone support for network."),
    ("net-mtu", "Network MTU", "Provides MTU attribute for a network resource."),
    ("net-mtu-writable", "Network MTU (writable)", "Provides a writable MTU attribute for a network resource."),
    (
        "network-ip-availability",
        "Network IP Availability",
        "Provides IP availability data for each network and subnet.",
    ),
    ("pagination", "Pagination support", "Extension that indicates that pagination is enabled."),
    ("port-security", "Port Security", "Provides port security"),
    ("project-id", "project_id field enabled", "Extension that indicates that project_id field is enabled."),
    ("provider", "Provider Network", "Expose mapping of virtual networks to physical networks"),
    ("quotas", "Quota management support", "Expose functions for quotas management per tenant"),
    ("quota_details", "Quota details management support", "Expose functions for quotas usage statistics per project"),
    (
        "router",
        "Neutron L3 Router",
        "Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external "
        "networks via a NAT gateway.",
    ),
    ("security-group", "security-group", "The security groups extension."),
    ("sorting", "Sorting support", "Extension that indicates that sorting is enabled."),
    ("standard-attr-description", "standard-attr-description", "Extension to add descriptions to standard attributes"),
    (
        "standard-attr-revisions",
        "Resource revision numbers",
        "This extension will display the revision number of neutron resources.",
    ),
    (
        "standard-attr-timestamp",
        "Resource timestamps",
        "Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.",
    ),
    ("stateful-security-group", "Stateful security group", "Indicates if the security group is stateful or not"),
    (
        "subnet-external-network",
        "Subnet External Network",
        "Informs if the subnet is associated to an external network.",
    ),
    ("subnet_allocation", "Subnet Allocation", "Enables allocation of subnets from a subnet pool"),
]
UNSUPPORTED = {"default-subnetpools", "subnet_allocation", "network-ip-availability", "fip-port-details"}
"""Listed upstream but not implemented here: left out of the listing."""

RESOURCES = ("subnets", "networks", "ports", "routers", "floatingips", "security-groups", "security-group-rules")


def _ext(alias: str, name: str, description: str) -> dict[str, Any]:
    return {
        "alias": alias,
        "name": name,
        "description": description,
        "updated": "2013-01-01T10:00:00-00:00",
        "links": [],
    }


def extensions() -> list[dict[str, Any]]:
    return [_ext(*e) for e in EXTENSIONS if e[0] not in UNSUPPORTED]


@router.get("/")
def versions(request: Request) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    return {"versions": [{"id": "v2.0", "status": "CURRENT", "links": [{"href": f"{base}/v2.0/", "rel": "self"}]}]}


@router.get("/v2.0")
@router.get("/v2.0/")
def index(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    base = str(request.base_url).rstrip("/")
    items = []
    for path in RESOURCES:
        member = path.replace("-", "_")[:-1]
        items.append(
            {
                "name": member,
                "collection": path.replace("-", "_"),
                "links": [{"href": f"{base}/v2.0/{path}", "rel": "self"}],
            }
        )
    return {"resources": items}


@router.get("/v2.0/extensions")
def list_extensions(ctx: RequestContext = Context) -> dict[str, Any]:
    return {"extensions": extensions()}


@router.get("/v2.0/extensions/{alias}")
def show_extension(alias: str, ctx: RequestContext = Context) -> dict[str, Any]:
    for ext in extensions():
        if ext["alias"] == alias:
            return {"extension": ext}
    err = not_found("Extension", alias)
    err.message = f"Extension with alias {alias} does not exist"
    raise err
