"""The tunnel endpoint on an OVS netdev bridge (br-phy), bridge uplinks, and OVN central on TCP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stratus.core.config import Config
from stratus.network import conf
from stratus.network.agent import chassis
from stratus.network.agent.central import OvnCentral
from stratus.network.agent.iplink import IpLink


def make_config(tmp_path: Path, **agent: Any) -> Config:
    return Config({"core": {"state_dir": str(tmp_path), "host": "h1"}, "network_agent": agent}, env={})


def test_underlay_bridge_gets_the_uplink_and_the_encap_address(tmp_path: Path) -> None:
    config = make_config(tmp_path, underlay_interface="ul0", underlay_cidr="10.250.0.11/24", bridge_mappings={})
    agent = conf.agent_config(config)
    assert chassis.open_vswitch_ids(config, agent, "netdev")["ovn-encap-ip"] == "10.250.0.11"
    cmds = chassis.setup_commands(config, agent, "netdev")
    assert ["--no-wait", "--may-exist", "add-br", "br-phy", "--", "set", "Bridge", "br-phy",
            "datapath_type=netdev"] in cmds  # fmt: skip
    assert ["--no-wait", "--may-exist", "add-port", "br-phy", "ul0"] in cmds
    assert chassis.Chassis(config).bridges == ["br-int", "br-phy"]


def test_bridge_ports_plug_an_uplink_into_a_mapped_bridge(tmp_path: Path) -> None:
    config = make_config(tmp_path, bridge_ports={"br-ex": "ex0"})
    cmds = chassis.setup_commands(config, conf.agent_config(config), "netdev")
    assert sum(1 for c in cmds if c[2:4] == ["add-br", "br-ex"]) == 1  # mapped: created once
    assert ["--no-wait", "--may-exist", "add-port", "br-ex", "ex0"] in cmds


def test_encap_ip_must_match_the_underlay_address(tmp_path: Path) -> None:
    agent = conf.agent_config(make_config(tmp_path, underlay_cidr="10.250.0.11/24", encap_ip="10.250.0.11"))
    assert conf.encap_address(agent) == "10.250.0.11"
    with pytest.raises(ValueError, match="differs"):
        conf.encap_address(
            conf.agent_config(make_config(tmp_path, underlay_cidr="10.250.0.11/24", encap_ip="10.9.9.9"))
        )
    with pytest.raises(ValueError, match="not an address"):
        conf.encap_address(conf.agent_config(make_config(tmp_path, underlay_cidr="nonsense")))
    with pytest.raises(ValueError, match="underlay_cidr"):
        chassis.uplinks(conf.agent_config(make_config(tmp_path, underlay_interface="ul0")))


def test_address_moves_from_the_uplink_onto_br_phy(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    def runner(cmd: list[str]) -> Any:
        import subprocess

        calls.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    config = make_config(tmp_path, underlay_interface="ul0", underlay_cidr="10.250.0.11/24", bridge_mappings={})
    node = chassis.Chassis(config, netns="hostns")
    node.ip = IpLink("hostns", runner=runner)
    node._host_address()
    joined = [" ".join(c) for c in calls]
    expected = [
        "ip netns exec hostns ethtool -K ul0 tx off",
        "ip -n hostns link set dev ul0 up",
        "ip -n hostns -4 addr flush dev ul0",
        "ip -n hostns addr replace 10.250.0.11/24 dev br-phy",
        "ip -n hostns link set dev br-phy up",
    ]
    positions = [joined.index(e) for e in expected]
    assert positions == sorted(positions), joined


def test_central_listens_on_tcp_only_when_asked(tmp_path: Path) -> None:
    def remotes(central: OvnCentral) -> list[list[str]]:
        return [[a for a in p.spec.argv if a.startswith("--remote=")] for p in central.supervisor.processes[:2]]

    assert remotes(OvnCentral(tmp_path)) == [
        [f"--remote=punix:{tmp_path}/nb.sock"],
        [f"--remote=punix:{tmp_path}/sb.sock"],
    ]
    assert remotes(OvnCentral(tmp_path, listen="10.250.0.1")) == [
        [f"--remote=punix:{tmp_path}/nb.sock", "--remote=ptcp:6641:10.250.0.1"],
        [f"--remote=punix:{tmp_path}/sb.sock", "--remote=ptcp:6642:10.250.0.1"],
    ]
