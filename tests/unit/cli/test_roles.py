"""``stratus serve --role``: what the controller and compute roles change, and that a compute host has no database."""

from __future__ import annotations

from typing import Any

import pytest

from stratus.cli import roles
from stratus.compute import conf as compute_conf
from stratus.core.config import Config
from stratus.network import conf as network_conf


def test_unknown_role_is_refused() -> None:
    with pytest.raises(roles.RoleError, match="controller"):
        roles.check_role("storage")


def test_controller_runs_no_agents_and_serves_ovn_central_on_tcp() -> None:
    config = roles.controller_config(Config({"core": {"bind_host": "10.1.2.3"}}, env={}))
    assert compute_conf.agent_config(config).fake_hosts == 0
    assert not network_conf.agent_config(config).enabled
    assert network_conf.load(config).ovn_central_listen == "10.1.2.3"
    explicit = roles.controller_config(Config({"network": {"ovn_central_listen": "10.9.9.9"}}, env={}))
    assert network_conf.load(explicit).ovn_central_listen == "10.9.9.9"


def test_compute_role_has_one_agent_and_no_database() -> None:
    config = roles.compute_config(Config({"compute_agent": {"fake_hosts": 3, "host_prefix": "x"}}, env={}))
    assert config.core.database_url == roles.NO_DATABASE_URL
    agent = compute_conf.agent_config(config)
    assert (agent.fake_hosts, agent.host_prefix) == (1, "")


def test_a_database_opened_by_mistake_on_a_compute_host_fails() -> None:
    from stratus.core.db import Database

    config = roles.compute_config(Config({}, env={}))
    with pytest.raises(Exception, match="computerole_has_no_database"):
        Database(config.database_url("compute"))


class Recorder:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def part(self, name: str) -> Any:
        recorder = self

        class Part:
            def stop(self) -> None:
                recorder.calls.append(f"stop {name}")

            close = stop

        self.calls.append(f"start {name}")
        return Part()


def test_compute_node_starts_in_order_stops_in_reverse_and_never_opens_a_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import stratus.core.db as db

    def no_database(*_a: Any, **_k: Any) -> None:
        raise AssertionError("the compute role opened a database")

    monkeypatch.setattr(db.Database, "__init__", no_database)
    rec = Recorder()
    seen: dict[str, Config] = {}

    def workers(config: Config, _bus: Any) -> Any:
        seen["workers"] = config
        return rec.part("workers")

    node = roles.ComputeNode(
        Config({"core": {"host": "h7"}}, env={}),
        bus_factory=lambda url: rec.part(f"bus {url}"),
        network_agent_factory=lambda _c, _b: rec.part("network-agent"),
        workers_factory=workers,
        hypervisor=lambda c, _r: (c.with_overrides(compute_agent={"libvirt_uri": "test:///x"}), False),
    )
    node.start()
    assert node.host == "h7"
    assert compute_conf.agent_config(seen["workers"]).libvirt_uri == "test:///x"
    node.stop()
    assert rec.calls == [
        "start bus memory://",
        "start network-agent",
        "start workers",
        "stop workers",
        "stop network-agent",
        "stop bus memory://",
    ]


def test_compute_node_undoes_a_failed_start() -> None:
    rec = Recorder()

    def broken(_c: Config, _b: Any) -> Any:
        raise RuntimeError("libvirtd is gone")

    node = roles.ComputeNode(
        Config({}, env={}),
        bus_factory=lambda _u: rec.part("bus"),
        network_agent_factory=lambda _c, _b: rec.part("network-agent"),
        workers_factory=broken,
        hypervisor=lambda c, _r: (c, False),
    )
    with pytest.raises(RuntimeError, match="libvirtd"):
        node.start()
    assert rec.calls == ["start bus", "start network-agent", "stop network-agent", "stop bus"]
