"""Pure parts of the metadata proxies: names, finding this host's namespaces, the cached instance lookup."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stratus.core.bus import MessagingTimeout, RemoteError
from stratus.network.agent import metadata_netns as ns
from stratus.network.agent.metadata import InstanceLookup
from stratus.network.agent.metadata_server import LookupUnavailable, sign

NET = "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"


def test_names_fit_interface_limits_and_differ_per_host() -> None:
    a, b = ns.names("host-a", NET), ns.names("host-b", NET)
    for n in (a, b):
        assert len(n.host_dev) <= 15 and len(n.ns_dev) <= 15
        assert ns.HOST_DEV.match(n.host_dev)
        assert n.namespace.startswith(ns.NS_PREFIX) and n.namespace.endswith(NET)
    assert a != b and len({a.host_dev, b.host_dev, a.namespace, b.namespace}) == 4
    assert ns.names("host-a", NET) == a
    assert ns.names("host-a", "other") != a


@pytest.mark.parametrize("bad", ["", "../x", "a/b", "x" * 65, "a b"])
def test_unusable_network_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        ns.names("h", bad)


def test_own_namespaces(tmp_path: Path) -> None:
    mine = ns.names("h1", NET).namespace
    other = ns.names("h2", NET).namespace
    for name in (mine, other, "qdhcp-x", f"{ns.NS_PREFIX}{ns.host_tag('h1')}-bad name"):
        (tmp_path / name).touch()
    assert ns.own_namespaces("h1", tmp_path) == {NET: mine}
    assert ns.own_namespaces("h1", tmp_path / "missing") == {}


class FakeBus:
    def __init__(self, answer: Any = None, error: Exception | None = None):
        self.answer = answer
        self.error = error
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def call(self, topic: str, method: str, *, timeout: float | None = None, **kwargs: Any) -> Any:
        self.calls.append((topic, method, kwargs))
        if self.error is not None:
            raise self.error
        return self.answer


def test_lookup_asks_the_network_server_and_caches() -> None:
    now = [100.0]
    bus = FakeBus({"device_id": "vm-1", "project_id": "p"})
    lookup = InstanceLookup(bus, ttl=5.0, clock=lambda: now[0])
    assert lookup("n", "10.0.0.5") == {"device_id": "vm-1", "project_id": "p"}
    assert bus.calls == [("network-server", "lookup_instance", {"network_id": "n", "address": "10.0.0.5"})]
    now[0] += 4.9
    lookup("n", "10.0.0.5")
    assert len(bus.calls) == 1
    lookup("n", "10.0.0.6")
    assert len(bus.calls) == 2
    now[0] += 0.2
    lookup("n", "10.0.0.5")
    assert len(bus.calls) == 3


@pytest.mark.parametrize("answer", [None, {}, {"device_id": ""}, "junk", {"project_id": "p"}])
def test_lookup_misses(answer: Any) -> None:
    assert InstanceLookup(FakeBus(answer))("n", "10.0.0.5") is None


@pytest.mark.parametrize("error", [MessagingTimeout("network-server", "lookup_instance", 10), RemoteError("X", "y")])
def test_lookup_failures_are_unavailable_and_not_cached(error: Exception) -> None:
    bus = FakeBus(error=error)
    lookup = InstanceLookup(bus)
    for _ in range(2):
        with pytest.raises(LookupUnavailable):
            lookup("n", "10.0.0.5")
    assert len(bus.calls) == 2


def test_sign_matches_compute_side() -> None:
    from stratus.compute.metadata import sign as compute_sign  # the contract both sides implement

    assert sign("secret", "vm-1") == compute_sign("secret", "vm-1")
