"""Whatever a client sends to the create, update and list calls, the answer is a 2xx or a clean 4xx."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.functional.network.conftest import Api

SCALARS = st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.text(max_size=12)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=3),
    max_leaves=6,
)
ATTRS = st.sampled_from(
    [
        "name",
        "network_id",
        "cidr",
        "ip_version",
        "gateway_ip",
        "allocation_pools",
        "fixed_ips",
        "mac_address",
        "security_groups",
        "allowed_address_pairs",
        "port_security_enabled",
        "direction",
        "protocol",
        "ethertype",
        "port_range_min",
        "port_range_max",
        "remote_ip_prefix",
        "remote_group_id",
        "external_gateway_info",
        "routes",
        "floating_network_id",
        "port_id",
        "admin_state_up",
        "binding:host_id",
        "mtu",
        "shared",
    ]
)
VALUES = JSON | st.sampled_from(["10.0.0.0/24", "10.0.0.5", "::/0", "fa:16:3e:00:00:01", "tcp", "ingress", "IPv6"])
BODIES = st.dictionaries(ATTRS, VALUES, max_size=5)
RESOURCES = st.sampled_from(
    [
        ("networks", "network"),
        ("subnets", "subnet"),
        ("ports", "port"),
        ("routers", "router"),
        ("floatingips", "floatingip"),
        ("security-groups", "security_group"),
        ("security-group-rules", "security_group_rule"),
    ]
)
FUZZ = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(resource=RESOURCES, attrs=BODIES, wrap=st.booleans())
def test_create_never_fails_with_5xx(api: Api, resource: tuple[str, str], attrs: dict[str, Any], wrap: bool) -> None:
    path, member = resource
    body: Any = {member: attrs} if wrap else attrs
    resp = api("POST", f"/v2.0/{path}", json=body)
    assert resp.status_code in (201, 400, 403, 404, 409), resp.text


@FUZZ
@given(attrs=BODIES)
def test_port_update_never_fails_with_5xx(api: Api, attrs: dict[str, Any]) -> None:
    if not hasattr(api, "fuzz_port"):  # one port for all examples (quotas would stop a port per example)
        net, _ = api.network_with_subnet()
        api.fuzz_port = api.create("port", network_id=net["id"])  # type: ignore[attr-defined]
    port = api.fuzz_port  # type: ignore[attr-defined]
    resp = api("PUT", f"/v2.0/ports/{port['id']}", json={"port": attrs})
    assert resp.status_code in (200, 400, 403, 404, 409), resp.text


@FUZZ
@given(
    params=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "limit",
                    "marker",
                    "sort_key",
                    "sort_dir",
                    "fields",
                    "name",
                    "page_reverse",
                    "fixed_ips",
                    "shared",
                    "bogus",
                ]
            ),
            st.text(max_size=15),
        ),
        max_size=4,
    )
)
def test_list_never_fails_with_5xx(api: Api, params: list[tuple[str, str]]) -> None:
    resp = api("GET", "/v2.0/ports", params=params)
    assert resp.status_code in (200, 400, 404), resp.text
