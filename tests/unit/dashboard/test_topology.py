"""The topology picture: where things go (topology.layout) and how the template stacks them."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from stratus.core.config import Config
from stratus.dashboard import topology
from stratus.dashboard.service import DashboardService

SVG = "{http://www.w3.org/2000/svg}"


def _cloud() -> topology.Picture:
    """Three networks; a router on the first and the last, so its line to the last passes the middle one."""
    networks = [
        {"id": "ext", "name": "public", "router:external": True},
        {"id": "n1", "name": "alpha"},
        {"id": "n2", "name": "beta-network-with-a-long-name"},
    ]
    subnets = [
        {"network_id": "ext", "cidr": "172.24.4.0/24"},
        {"network_id": "n1", "cidr": "10.0.1.0/24"},
        {"network_id": "n2", "cidr": "10.0.2.0/24"},
    ]
    routers = [{"id": "r1", "name": "edge", "status": "ACTIVE", "external_gateway_info": {"network_id": "ext"}}]
    ports = [
        {"id": "p1", "device_id": "r1", "network_id": "n2", "fixed_ips": [{"ip_address": "10.0.2.1"}]},
        {"id": "p2", "device_id": "s1", "network_id": "n1", "fixed_ips": [{"ip_address": "10.0.1.5"}]},
        {"id": "p3", "device_id": "s1", "network_id": "n2", "fixed_ips": [{"ip_address": "10.0.2.5"}]},
    ]
    servers = [{"id": "s1", "name": "web", "status": "ACTIVE", "flavor": {"original_name": "m1.tiny"}}]
    fips = [{"port_id": "p2", "floating_ip_address": "172.24.4.9"}]
    return topology.layout(networks, subnets, routers, ports, servers, fips)


def test_layout_links_each_box_to_its_networks() -> None:
    picture = _cloud()
    bars = {b.id: b for b in picture.networks}
    assert [b.id for b in picture.networks] == ["ext", "n1", "n2"]  # external first
    assert bars["n2"].cidrs == "10.0.2.0/24"
    router, server = picture.boxes
    assert (router.kind, server.kind) == ("router", "instance")
    assert {(link.label, link.x2) for link in router.links} == {
        ("gateway", bars["ext"].x + topology.NET_W // 2),
        ("10.0.2.1", bars["n2"].x + topology.NET_W // 2),
    }
    assert server.detail == "floating 172.24.4.9"
    assert [link.label for link in server.links] == ["10.0.2.5", "10.0.1.5"]  # farthest first
    # The picture is tall enough for the longest vertical label.
    assert picture.height >= picture.bar_top + 20 + len("beta-network-with-a-long-name 10.0.2.0/24") * 7.5


def _svg(picture: topology.Picture) -> ET.Element:
    web = DashboardService(Config({}, env={})).web
    html = web.env.get_template("topology.html").render(
        request=None, path="/project/topology/", session=None, csrf="", flashes=[], networking=True, picture=picture
    )
    found = re.search(r"<svg id=\"topology\".*?</svg>", html, re.S)
    assert found
    return ET.fromstring(found.group(0).replace("<svg ", f'<svg xmlns="{SVG[1:-1]}" ', 1))


def test_lines_are_drawn_under_the_network_bars_and_their_labels() -> None:
    """A line to a farther network crosses the nearer bars: it must be painted before them, never over a label."""
    picture = _cloud()
    bars = {b.id: b for b in picture.networks}
    router = picture.boxes[0]
    far = next(link for link in router.links if link.label == "10.0.2.1")
    assert far.x1 < bars["n1"].x < far.x2  # the case that matters: it passes the alpha bar

    order = [el for el in _svg(picture).iter() if el.tag in (f"{SVG}line", f"{SVG}rect", f"{SVG}text")]
    lines = [i for i, el in enumerate(order) if el.tag == f"{SVG}line"]
    labels = [i for i, el in enumerate(order) if el.get("class") == "net-name"]
    assert len(lines) == sum(len(b.links) for b in picture.boxes) == 4
    assert len(labels) == 3
    assert max(lines) < min(labels)  # SVG paints in document order: every bar and label is on top

    # Each box still names its addresses and keeps its dots (drawn after the bars, so they show).
    root = _svg(picture)
    node = next(g for g in root.iter(f"{SVG}g") if g.get("data-id") == "r1")
    assert {t.text for t in node.iter(f"{SVG}text") if t.get("class") == "ip"} == {"gateway", "10.0.2.1"}
    assert len(list(node.iter(f"{SVG}circle"))) == 2
