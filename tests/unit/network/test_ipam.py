"""Pools, gateways and free-address picking."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stratus.core.exceptions import BadRequest, Conflict
from stratus.network import models
from stratus.network.core import ipam


def test_default_pools_skip_gateway_network_and_broadcast() -> None:
    assert ipam.default_gateway("10.0.0.0/24") == "10.0.0.1"
    assert ipam.default_pools("10.0.0.0/24", "10.0.0.1") == [{"start": "10.0.0.2", "end": "10.0.0.254"}]
    assert ipam.default_pools("10.0.0.0/24", "10.0.0.100") == [
        {"start": "10.0.0.1", "end": "10.0.0.99"},
        {"start": "10.0.0.101", "end": "10.0.0.254"},
    ]
    assert ipam.default_pools("10.0.0.0/24", None) == [{"start": "10.0.0.1", "end": "10.0.0.254"}]
    assert ipam.default_pools("fd00::/64", "fd00::1")[0]["start"] == "fd00::2"


def test_validate_pools() -> None:
    ok = ipam.validate_pools("10.0.0.0/24", "10.0.0.1", [{"start": "10.0.0.10", "end": "10.0.0.20"}])
    assert ok == [{"start": "10.0.0.10", "end": "10.0.0.20"}]
    with pytest.raises(BadRequest):
        ipam.validate_pools("10.0.0.0/24", None, [{"start": "10.0.0.20", "end": "10.0.0.10"}])
    with pytest.raises(BadRequest):
        ipam.validate_pools("10.0.0.0/24", None, [{"start": "10.0.0.0", "end": "10.0.0.10"}])
    with pytest.raises(BadRequest):
        pools = [{"start": "10.0.0.2", "end": "10.0.0.10"}, {"start": "10.0.0.5", "end": "10.0.0.20"}]
        ipam.validate_pools("10.0.0.0/24", None, pools)
    with pytest.raises(Conflict):
        ipam.validate_pools("10.0.0.0/24", "10.0.0.5", [{"start": "10.0.0.2", "end": "10.0.0.10"}])


@given(st.sets(st.integers(min_value=2, max_value=14), max_size=13))
def test_pick_free_never_returns_a_used_address(used_hosts: set[int]) -> None:
    subnet = models.Subnet(
        id="s", ip_version=4, cidr="10.0.0.0/28", allocation_pools=[{"start": "10.0.0.2", "end": "10.0.0.14"}]
    )
    used = {f"10.0.0.{h}" for h in used_hosts}
    picked = ipam.pick_free(subnet, used)
    if len(used) == 13:
        assert picked is None
    else:
        assert picked not in used and picked is not None
        assert 2 <= int(picked.rsplit(".", 1)[1]) <= 14
