"""Project > Overview: quota usage drawn as SVG donuts, from compute's limits and networking's quota details."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from stratus.dashboard.charts import Usage, donut
from stratus.dashboard.views.deps import Page, View

router = APIRouter()


def compute_usage(limits: dict[str, int]) -> list[Usage]:
    return [
        donut("Instances", limits.get("totalInstancesUsed", 0), limits.get("maxTotalInstances", -1)),
        donut("vCPUs", limits.get("totalCoresUsed", 0), limits.get("maxTotalCores", -1)),
        donut("RAM", limits.get("totalRAMUsed", 0) / 1024, _gib(limits.get("maxTotalRAMSize", -1)), "GiB"),
    ]


def _gib(mib: int) -> float:
    return mib / 1024 if mib >= 0 else -1


def network_usage(quota: dict[str, dict[str, int]]) -> list[Usage]:
    names = (("floatingip", "Floating IPs"), ("security_group", "Security groups"), ("network", "Networks"))
    names += (("router", "Routers"),)
    return [donut(label, quota[key]["used"], quota[key]["limit"]) for key, label in names if key in quota]


@router.get("/project/")
def overview(view: View = Page) -> Response:
    charts = compute_usage(view.clients.compute.limits())
    if view.clients.has("network"):
        charts += network_usage(view.clients.network.quota_details(view.project_id))
    return view.page("overview.html", charts=charts)
