"""``/v2.1/extensions``: Nova's frozen list of the v2.0 extensions the v2.1 API still answers for.

Nova stopped adding extensions with v2.1 and serves this list as it was (every entry dated
2014-12-03 with a placeholder namespace); clients such as novaclient still read it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from stratus.compute.api.deps import Context, get_service
from stratus.core.context import RequestContext
from stratus.core.exceptions import NotFound

router = APIRouter(prefix="/v2.1/extensions")

# (name, alias, description)
EXTENSIONS: tuple[tuple[str, str, str], ...] = (
    ("AccessIPs", "os-access-ips", "Access IPs support."),
    ("AdminActions", "os-admin-actions", "Enable admin-only server actions."),
    ("AdminPassword", "os-admin-password", "Admin password management support."),
    ("Aggregates", "os-aggregates", "Admin-only aggregate administration."),
    ("AvailabilityZone", "os-availability-zone", "1. Add availability_zone to the Create Server API."),
    ("ConsoleOutput", "os-console-output", "Console log output support, with tailing ability."),
    ("Consoles", "os-consoles", "Interactive Console support."),
    ("CreateBackup", "os-create-backup", "Create a backup of a server."),
    ("DiskConfig", "os-disk-config", "Disk Management Extension."),
    ("ExtendedAvailabilityZone", "OS-EXT-AZ", "Extended Availability Zone support."),
    ("ExtendedIps", "OS-EXT-IPS", "Adds type parameter to the ip list."),
    ("ExtendedIpsMac", "OS-EXT-IPS-MAC", "Adds mac address parameter to the ip list."),
    (
        "ExtendedQuotas",
        "os-extended-quotas",
        "Adds ability for admins to delete quota and optionally force the update.",
    ),
    ("ExtendedServerAttributes", "OS-EXT-SRV-ATTR", "Extended Server Attributes support."),
    ("ExtendedStatus", "OS-EXT-STS", "Extended Status support."),
    ("ExtendedVolumes", "os-extended-volumes", "Extended Volumes support."),
    ("FlavorAccess", "os-flavor-access", "Flavor access support."),
    ("FlavorDisabled", "OS-FLV-DISABLED", "Support to show the disabled status of a flavor."),
    ("FlavorExtraData", "OS-FLV-EXT-DATA", "Provide additional data for flavors."),
    ("FlavorExtraSpecs", "os-flavor-extra-specs", "Flavors extra specs support."),
    ("FlavorManage", "os-flavor-manage", "Flavor create/delete API support."),
    ("FlavorRxtx", "os-flavor-rxtx", "Support to show the rxtx status of a flavor."),
    ("FlavorSwap", "os-flavor-swap", "Support to show the swap status of a flavor."),
    ("Hosts", "os-hosts", "Admin-only host administration."),
    ("Hypervisors", "os-hypervisors", "Admin-only hypervisor administration."),
    ("InstanceActions", "os-instance-actions", "View a log of actions and events taken on an instance."),
    ("Keypairs", "os-keypairs", "Keypair Support."),
    ("MultipleCreate", "os-multiple-create", "Allow multiple create in the Create Server v2.1 API."),
    ("QuotaClasses", "os-quota-class-sets", "Quota classes management support."),
    ("Quotas", "os-quota-sets", "Quotas management support."),
    ("SchedulerHints", "OS-SCH-HNT", "Pass arbitrary key/value pairs to the scheduler."),
    ("ServerGroupQuotas", "os-server-group-quotas", "Adds quota support to server groups."),
    ("ServerGroups", "os-server-groups", "Server group support."),
    ("ServerSortKeys", "os-server-sort-keys", "Add sorting support in get Server v2 API."),
    ("ServerStartStop", "os-server-start-stop", "Start/Stop instance compute API support."),
    ("ServerUsage", "OS-SRV-USG", "Adds launched_at and terminated_at on Servers."),
    ("Services", "os-services", "Services support."),
    ("UsedLimits", "os-used-limits", "Provide data on limited resources that are being used."),
    ("UserData", "os-user-data", "Add user_data to the Create Server API."),
)


def _view(name: str, alias: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "alias": alias,
        "description": description,
        "links": [],
        "namespace": "http://docs.openstack.org/compute/ext/fake_xml",
        "updated": "2014-12-03T00:00:00Z",
    }


def _enforce(request: Request, ctx: RequestContext) -> None:
    get_service(request).enforcer.enforce(ctx, "os_compute_api:extensions", {"project_id": ctx.project_id})


@router.get("")
def list_extensions(request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    _enforce(request, ctx)
    return {"extensions": [_view(*e) for e in EXTENSIONS]}


@router.get("/{alias}")
def show_extension(alias: str, request: Request, ctx: RequestContext = Context) -> dict[str, Any]:
    _enforce(request, ctx)
    for ext in EXTENSIONS:
        if ext[1] == alias:
            return {"extension": _view(*ext)}
    raise NotFound(f"Extension {alias} could not be found.")
