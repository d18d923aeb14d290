"""Laying out the network topology picture: networks as vertical bars, routers and instances as boxes beside them.

Pure data in, coordinates out (the template draws the SVG), so the layout is unit-tested without a browser.
Each box sits on its own row; a line runs from it to every network it has a port on, ending in a dot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BOX_W, BOX_H, ROW_H = 190, 44, 60
NET_W, NET_GAP = 26, 80
LEFT, TOP, HEAD = 20, 20, 70
CHAR_W = 7.5  # width of one character of a network's label (12 px sans-serif), to size the bars
PALETTE = ("#2f7ed8", "#8bbc21", "#e0803a", "#9b59b6", "#1aadce", "#c0392b", "#16a085", "#7f8c8d")


@dataclass
class NetBar:
    id: str
    name: str
    cidrs: str
    x: int
    color: str
    external: bool


@dataclass
class Link:
    x1: int
    x2: int
    y: int
    color: str
    label: str


@dataclass
class Box:
    id: str
    kind: str  # "router" or "instance"
    name: str
    detail: str
    status: str
    y: int
    links: list[Link] = field(default_factory=list)
    href: str = ""


@dataclass
class Picture:
    width: int
    height: int
    box_x: int
    bar_top: int
    networks: list[NetBar]
    boxes: list[Box]


def layout(
    networks: list[dict[str, Any]],
    subnets: list[dict[str, Any]],
    routers: list[dict[str, Any]],
    ports: list[dict[str, Any]],
    servers: list[dict[str, Any]],
    floating_ips: list[dict[str, Any]],
) -> Picture:
    """Place every network, router and instance; only ports whose network is shown become links."""
    cidrs: dict[str, list[str]] = {}
    for subnet in subnets:
        cidrs.setdefault(subnet["network_id"], []).append(subnet["cidr"])
    ordered = sorted(networks, key=lambda n: (not n.get("router:external"), n.get("name") or "", n["id"]))
    bars = {
        n["id"]: NetBar(
            n["id"],
            n.get("name") or n["id"][:8],
            ", ".join(cidrs.get(n["id"], [])),
            LEFT + BOX_W + NET_GAP + i * (NET_W + NET_GAP),
            PALETTE[i % len(PALETTE)],
            bool(n.get("router:external")),
        )
        for i, n in enumerate(ordered)
    }
    fip_by_port = {f["port_id"]: f["floating_ip_address"] for f in floating_ips if f.get("port_id")}
    ports_by_device: dict[str, list[dict[str, Any]]] = {}
    for port in ports:
        ports_by_device.setdefault(port.get("device_id") or "", []).append(port)

    boxes: list[Box] = []
    y = TOP + HEAD
    for router in sorted(routers, key=lambda r: r.get("name") or r["id"]):
        box = Box(router["id"], "router", router.get("name") or router["id"][:8], "router", router.get("status", ""), y)
        box.href = f"/project/routers/{router['id']}"
        gateway = (router.get("external_gateway_info") or {}).get("network_id")
        if gateway in bars:
            box.links.append(_link(bars[gateway], y, "gateway"))
        for port in ports_by_device.get(router["id"], []):
            if port["network_id"] in bars and port["network_id"] != gateway:
                box.links.append(_link(bars[port["network_id"]], y, _ips(port)))
        boxes.append(box)
        y += ROW_H
    for server in sorted(servers, key=lambda s: (s.get("name") or "", s["id"])):
        fips = [fip_by_port[p["id"]] for p in ports_by_device.get(server["id"], []) if p["id"] in fip_by_port]
        detail = ("floating " + ", ".join(fips)) if fips else (server.get("flavor") or {}).get("original_name", "")
        box = Box(server["id"], "instance", server.get("name") or server["id"][:8], detail, server.get("status", ""), y)
        box.href = f"/project/instances/{server['id']}"
        for port in ports_by_device.get(server["id"], []):
            if port["network_id"] in bars:
                box.links.append(_link(bars[port["network_id"]], y, _ips(port)))
        boxes.append(box)
        y += ROW_H
    for box in boxes:  # farthest first, so each nearer link is drawn over it and keeps its colour
        box.links.sort(key=lambda link: -link.x2)
    width = LEFT + BOX_W + NET_GAP + max(len(bars), 1) * (NET_W + NET_GAP) + 40
    longest = max((len(f"{b.name} (external) {b.cidrs}") for b in bars.values()), default=0)
    height = max(y, TOP + HEAD + ROW_H, TOP + 20 + longest * CHAR_W) + 10  # room for the bars' vertical labels
    return Picture(width, int(height), LEFT, TOP, list(bars.values()), boxes)


def _ips(port: dict[str, Any]) -> str:
    return ", ".join(ip.get("ip_address", "") for ip in port.get("fixed_ips", []))


def _link(bar: NetBar, y: int, label: str) -> Link:
    return Link(LEFT + BOX_W, bar.x + NET_W // 2, y + BOX_H // 2, bar.color, label)
